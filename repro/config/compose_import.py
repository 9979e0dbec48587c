"""`repro env import`: a docker-compose file's services as a repro environment, plus a plain
list of what could not be converted."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.config import units
from repro.config.schema import Invalid
from repro.config.yaml_source import display_path, load_yaml
from repro.errors import ConfigError, Problem

_HANDLED_MAIN = {"image", "build", "environment", "volumes", "working_dir", "user", "command",
                 "depends_on", "healthcheck"}
_HANDLED_SERVICE = {"image", "build", "environment", "volumes", "command", "depends_on",
                    "healthcheck"}
_WHY = {"ports": " (services reach each other by name on the run's network)",
        "networks": " (services reach each other by name on the run's network)"}


def _duration(value: Any) -> Any:
    """Compose `1m30s` / `10s` / `500ms` -> seconds; what is not a duration stays as is."""
    if not isinstance(value, str):
        return value
    try:
        return round(units.duration(value), 3)
    except Invalid:
        return value


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _env(raw: Any, name: str = "", notes: list[str] | None = None) -> dict[str, str]:
    """Compose environment (mapping or KEY=VALUE list); host-inherited names are noted."""
    pairs: list[tuple[str, Any]] = list(raw.items()) if isinstance(raw, dict) else [
        (str(item).partition("=")[0], str(item).partition("=")[2] if "=" in str(item)
         else None) for item in raw or []]
    out = {}
    for key, value in pairs:
        if value is None:
            if notes is not None:
                notes.append(f"{name}: {key} comes from the host's environment in compose; "
                             "set it here or as a parameter")
            continue
        if notes is not None and "${" in _text(value):
            notes.append(f"{name}: {key} uses compose interpolation (${{...}}), copied as "
                         "written; make it a parameter ({{ name }})")
        out[str(key)] = _text(value)
    return out


def _command(raw: Any) -> list[str]:
    """A compose command string is split like a shell would, as compose does."""
    import shlex

    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def _image(svc: dict[str, Any], base: Path, env_dir: Path) -> Any:
    build = svc.get("build")
    if build is None:
        return svc.get("image")
    if isinstance(build, str):
        build = {"context": build}
    out: dict[str, Any] = {"context": os.path.relpath(base / build.get("context", "."),
                                                      env_dir)}
    if build.get("dockerfile"):
        out["dockerfile"] = build["dockerfile"]
    if build.get("args"):
        out["args"] = _env(build["args"])
    return {"build": out}


def _ready(check: dict[str, Any] | None, notes: list[str], name: str) -> dict[str, Any] | None:
    if not check or check.get("disable"):
        return None
    test = check.get("test")
    if isinstance(test, list) and test and test[0] == "CMD-SHELL":
        command: Any = " ".join(test[1:])
    elif isinstance(test, list) and test and test[0] == "CMD":
        command = test[1:]
    elif isinstance(test, str):
        command = test
    else:
        notes.append(f"{name}: healthcheck {test!r} not understood; add `ready:` by hand")
        return None
    ready: dict[str, Any] = {"command": command}
    retries = int(check.get("retries", 3) or 3)
    interval = _duration(check.get("interval", "5s"))
    if isinstance(interval, (int, float)):
        ready["interval"] = interval
        ready["timeout"] = max(30, round(interval * (retries + 1), 3))
    return ready


def _files(svc: dict[str, Any], name: str, base: Path, env_dir: Path, notes: list[str]
           ) -> list[dict[str, Any]]:
    files = []
    for volume in svc.get("volumes", []) or []:
        spec = volume if isinstance(volume, str) else \
            f"{volume.get('source', '')}:{volume.get('target', '')}"
        source, _, rest = spec.partition(":")
        target = rest.split(":")[0]
        host = (base / source).resolve()
        if source.startswith((".", "/")) and host.is_file() and target.startswith("/"):
            files.append({"path": target, "template": os.path.relpath(host, env_dir)})
        else:
            notes.append(f"{name}: volume {spec!r} not converted (only single files become "
                         "`files:`; load data with the scenario's `data:` or `load:`)")
    return files


def convert(compose: Path, env_dir: Path, main: str | None) -> tuple[dict[str, Any], list[str]]:
    """(environment document, notes on what was not converted)."""
    src = load_yaml(compose)
    services = src.data.get("services") if isinstance(src.data, dict) else None
    if not isinstance(services, dict) or not services:
        raise ConfigError(src.problem(("services",), "no services to import"))
    if main is None:
        main = next((n for n, s in services.items() if isinstance(s, dict) and "build" in s),
                    next(iter(services)))
    if main not in services:
        raise ConfigError(Problem(display_path(compose), None, "", f"--main {main}: no such "
                                  f"service (services: {', '.join(services)})"))
    base = compose.parent.resolve()
    notes: list[str] = []
    doc: dict[str, Any] = {"description": f"imported from {display_path(compose)}"}
    first = services[main]
    doc["image"] = _image(first, base, env_dir)
    if first.get("environment"):
        doc["env"] = _env(first["environment"], main, notes)
    files = _files(first, main, base, env_dir, notes)
    if files:
        doc["files"] = files
    for key, target in (("working_dir", "workdir"), ("user", "user")):
        if first.get(key):
            doc[target] = str(first[key])
    if first.get("command"):
        notes.append(f"{main}: command not used: the scenario's steps run in this container")
    renamed = {name: re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "service"
               for name in services if name != main}
    others: dict[str, Any] = {}
    for name, svc in services.items():
        if name == main:
            continue
        out: dict[str, Any] = {"image": _image(svc, base, env_dir)}
        if svc.get("environment"):
            out["env"] = _env(svc["environment"], name, notes)
        if svc.get("command"):
            out["command"] = _command(svc["command"])
        files = _files(svc, name, base, env_dir, notes)
        if files:
            out["files"] = files
        ready = _ready(svc.get("healthcheck"), notes, name)
        if ready:
            out["ready"] = ready
        # The main service is the steps' container, started last anyway: not a dependency.
        depends = [renamed[d] for d in (svc.get("depends_on") or []) if d in renamed]
        if depends:
            out["depends_on"] = depends
        others[renamed[name]] = out
    if others:
        doc["services"] = others
    for name, svc in services.items():
        handled = _HANDLED_MAIN if name == main else _HANDLED_SERVICE
        for key in svc:
            if key not in handled:
                notes.append(f"{name}: `{key}` not converted{_WHY.get(key, '')}")
    return doc, notes


@dataclass(frozen=True)
class Written:
    path: Path
    services: int  # besides the steps' container
    notes: list[str]  # what was not converted


def write_environment(compose: Path, env_dir: Path, name: str | None, main: str | None,
                      force: bool) -> Written:
    """Write environments/NAME.yaml from a compose file; the file written must validate,
    else nothing is left behind (an existing file is restored)."""
    from repro.config.project import load_environment
    from repro.config.yaml_dump import dump

    chosen = name or compose.resolve().parent.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", chosen):
        raise ConfigError(f"--name {chosen!r}: use letters, digits, '.', '-' and '_' (it "
                          "names environments/NAME.yaml)")
    target = env_dir / f"{chosen}.yaml"
    if target.exists() and not force:
        raise ConfigError(Problem(display_path(target), None, "", "exists already; pass "
                                  "--force to overwrite it or --name to choose another"))
    doc, notes = convert(compose, env_dir, main)
    header = "".join(f"# not converted: {note}\n" for note in notes)
    env_dir.mkdir(parents=True, exist_ok=True)
    previous = target.read_bytes() if target.exists() else None
    target.write_text(f"# Imported from {display_path(compose)} by `repro env import`.\n"
                      + header + dump(doc))
    try:
        load_environment(target)  # what we wrote must be a valid environment
    except ConfigError:
        if previous is None:  # leave nothing half-made behind
            target.unlink()
        else:
            target.write_bytes(previous)
        raise
    return Written(target, len(doc.get("services", {})), notes)
