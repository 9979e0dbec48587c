"""Turn an environment's templated parts (image, env, config files) into concrete values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repro.config.model import ConfigFile, Environment, Image
from repro.config.paths import outside
from repro.config.project import Loaded, project_root
from repro.config.templating import render
from repro.config.yaml_source import Loc, Source, display_path, not_text
from repro.errors import ConfigError, Problem
from repro.plan.values import FileWrite, ImagePlan
from repro.sandbox import reference


def template_context(values: dict[str, Any], scenario_id: str = "", ticket: str = "",
                     title: str = "") -> dict[str, Any]:
    """What templates see: each parameter by name, all of them as `params`, and `scenario`."""
    return {**values, "params": values,
            "scenario": {"id": scenario_id, "ticket": ticket, "title": title}}


def renderer(context: dict[str, Any], problems: list[Problem | str]) -> Any:
    """render(value, source, loc) that collects problems instead of stopping at the first."""

    def text(value: str, src: Source, loc: Loc) -> str:
        try:
            where = src.problem(loc, "")
            return render(value, context, Problem(where.file, src.value_line(loc), where.path,
                                                  ""))
        except ConfigError as exc:
            problems.extend(exc.problems)
            return value

    return text


def render_parts(envl: Loaded[Environment], at: Loc, image: Image, env: dict[str, str],
                 files: tuple[ConfigFile, ...], context: dict[str, Any],
                 problems: list[Problem | str]
                 ) -> tuple[ImagePlan, dict[str, str], tuple[FileWrite, ...]]:
    """Image (build args), env vars and config files of the environment (at=()) or of
    one of its services (at=("services", name)), rendered from the parameters."""
    text = renderer(context, problems)
    image_plan = _image_plan(image, envl, (*at, "image"), text, problems)
    env_vars = {k: text(v, envl.source, (*at, "env", k)) for k, v in env.items()}
    writes = tuple(_file_write(f, (*at, "files", i), envl, context, problems)
                   for i, f in enumerate(files))
    return image_plan, env_vars, writes


def render_environment(envl: Loaded[Environment], context: dict[str, Any],
                       problems: list[Problem | str]
                       ) -> tuple[ImagePlan, dict[str, str], tuple[FileWrite, ...]]:
    env = envl.record
    return render_parts(envl, (), env.image, env.env, env.files, context, problems)


def _image_plan(image: Image, envl: Loaded[Environment], at: Loc, text: Any,
                problems: list[Problem | str]) -> ImagePlan:
    if image.ref is not None:
        ref = text(image.ref, envl.source, (*at, "ref"))
        if ref != image.ref and not reference.is_valid(ref):  # as written: model checked it
            # The value is not shown: a secret parameter may be part of it.
            problems.append(envl.source.problem((*at, "ref"), "does not render to an image "
                                                f"reference ({reference.RULES}); check the "
                                                "parameters it uses"))
        return ImagePlan(ref=ref)
    build = image.build
    assert build is not None
    context = (envl.base / build.context).resolve()
    refused = outside(envl.base / build.context, project_root(envl.base))
    if refused:
        problems.append(envl.source.problem((*at, "build", "context"), refused))
    elif not context.is_dir():
        problems.append(envl.source.problem((*at, "build", "context"),
                                            f"build context {display_path(context)} is not a "
                                            "directory"))
    elif not (context / build.dockerfile).is_file():
        problems.append(envl.source.problem((*at, "build", "dockerfile"),
                                            f"{build.dockerfile} not found in "
                                            f"{display_path(context)}"))
    args = {k: text(v, envl.source, (*at, "build", "args", k))
            for k, v in build.args.items()}
    return ImagePlan(ref=None, context=context, dockerfile=build.dockerfile, build_args=args)


def _file_write(spec: Any, loc: Loc, envl: Loaded[Environment], context: dict[str, Any],
                problems: list[Problem | str]) -> FileWrite:
    if spec.template is not None:
        path = envl.base / spec.template
        raw = read_bytes(path, envl.source, (*loc, "template"), problems,
                         project_root(envl.base))
        where = Problem(display_path(path), None, "", "")
        origin = display_path(path)
    else:
        raw = spec.content.encode()
        shown = envl.source.problem((*loc, "content"), "").path
        where = Problem(envl.source.file, envl.source.value_line((*loc, "content")), shown, "")
        origin = f"{envl.source.file} {shown}"
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # only a template file can be: YAML was decoded
        problems.append(not_text(where.file, raw, exc))
        return FileWrite(spec.path, raw, spec.mode, origin)
    try:
        rendered = render(body, context, where)
    except ConfigError as exc:
        problems.extend(exc.problems)
        rendered = body
    return FileWrite(spec.path, rendered.encode("utf-8"), spec.mode, origin)


def read_bytes(path: Path, src: Source, loc: Loc, problems: list[Problem | str],
               project: Path) -> bytes:
    refused = outside(path, project)
    if refused:
        problems.append(src.problem(loc, refused))
        return b""
    try:
        return path.read_bytes()
    except OSError:
        problems.append(src.problem(loc, f"{display_path(path)} not found"))
        return b""


