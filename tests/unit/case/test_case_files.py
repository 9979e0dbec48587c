"""Packing and unpacking without an engine: what a case carries, and what it refuses."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from repro.case import manifest as mf
from repro.case.pack import pack
from repro.case.unpack import unpack
from repro.errors import ConfigError
from repro.plan.build import plan_scenario

BUILT_ENV = """\
image:
  build:
    context: images/app
files:
  - path: /etc/app.conf
    template: templates/app.conf.j2
"""

SCENARIO = """\
environment: built
extends: ../BASE
parameters_from: [../../shared/settings.yaml]
data:
  - {from: ../../shared/bundle, to: /srv/bundle}
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
"""


def _project(project) -> Path:
    project.environment("built", BUILT_ENV)
    project.environment("unused", "image: busybox\n")
    project.write("environments/images/app/Dockerfile", "FROM repro-base/busybox\n")
    project.write("environments/images/app/run.sh", "#!/bin/sh\n")
    (project.root / "environments/images/app/run.sh").chmod(0o755)
    project.write("environments/templates/app.conf.j2", "x={{ x }}\n")
    project.write("environments/templates/other.j2", "not used\n")
    project.environment("built", BUILT_ENV.replace("image:", "parameters: {x: 1}\nimage:"))
    project.scenario("BASE", "environment: built\nsteps: [{name: s, run: 'true'}]\n"
                     "oracle: {any: [{step: s, failed: true}]}\n")
    project.write("scenarios/BASE/baseline.yaml", "{}\n")
    project.scenario("S", SCENARIO)
    project.write("scenarios/S/baseline.yaml", "channels: {}\n")
    project.write("shared/settings.yaml", "x: 2\n")
    project.write("shared/bundle/a.log", "a\n")
    project.write("shared/bundle/deep/b.log", "b\n")
    project.write("shared/unrelated.txt", "not packed\n")
    return project.root / "case.tar.gz"


def test_a_case_carries_the_scenario_and_all_it_names_and_nothing_else(project) -> None:
    out = _project(project)
    packed = pack(plan_scenario(Path("scenarios/S")), out, lambda m: None)
    with tarfile.open(out) as tar:
        names = sorted(tar.getnames())
        manifest = json.load(tar.extractfile(mf.MANIFEST))  # type: ignore[arg-type]
        run_sh = tar.getmember("project/environments/images/app/run.sh")
        body = tar.extractfile("project/shared/settings.yaml").read()  # type: ignore[union-attr]
    assert names == sorted([mf.MANIFEST] + [f"project/{n}" for n in [
        "environments/built.yaml", "environments/images/app/Dockerfile",
        "environments/images/app/run.sh", "environments/templates/app.conf.j2",
        "scenarios/BASE/baseline.yaml", "scenarios/BASE/scenario.yaml",
        "scenarios/S/baseline.yaml", "scenarios/S/scenario.yaml",
        "shared/bundle/a.log", "shared/bundle/deep/b.log", "shared/settings.yaml"]])
    assert run_sh.mode == 0o755  # part of the image's cache key
    assert manifest["format"] == mf.FORMAT and manifest["scenario"] == {"id": "S",
                                                                        "path": "scenarios/S"}
    assert manifest["files"]["project/shared/settings.yaml"] == {
        "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
    assert packed.files == len(names) - 1 and packed.images == ()


def test_unpacked_case_plans_as_the_project_does(project, tmp_path) -> None:
    out = _project(project)
    original = plan_scenario(Path("scenarios/S"))
    pack(original, out, lambda m: None)
    unpacked = unpack(out, tmp_path / "elsewhere" / "u")
    again = plan_scenario(unpacked.scenario)
    assert (again.parameters, again.env, again.steps) == \
        (original.parameters, original.env, original.steps)
    assert [(f.path, f.content) for f in again.files] == \
        [(f.path, f.content) for f in original.files]
    assert (unpacked.scenario / "baseline.yaml").read_text() == "channels: {}\n"
    assert ((unpacked.project / "environments/images/app/run.sh").stat().st_mode & 0o777) == 0o755


def test_a_file_outside_the_project_is_not_packed(project, tmp_path, monkeypatch) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-bundle"
    outside.mkdir()
    (outside / "x.csv").write_text("1\n")
    monkeypatch.setenv("REPRO_ALLOW_PATHS", str(outside))
    project.environment("bb", "image: busybox\n")
    project.scenario("S", f"environment: bb\ndata: [{{from: {outside}/x.csv, to: /x}}]\n"
                     "steps: [{name: s, run: 'true'}]\noracle: {any: [{step: s, failed: true}]}\n")
    with pytest.raises(ConfigError, match="is outside the project"):
        pack(plan_scenario(Path("scenarios/S")), tmp_path / "c.tar.gz", lambda m: None)
    assert not (tmp_path / "c.tar.gz").exists()


def _case_with(project, tmp_path, rewrite) -> Path:
    project.environment("bb", "image: busybox\n")
    project.scenario("S", "environment: bb\nsteps: [{name: s, run: 'true'}]\n"
                     "oracle: {any: [{step: s, failed: true}]}\n")
    good = tmp_path / "good.tar.gz"
    pack(plan_scenario(Path("scenarios/S")), good, lambda m: None)
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(good) as src, tarfile.open(bad, "w:gz") as dst:
        members = [(i, src.extractfile(i).read()) for i in src.getmembers()]  # type: ignore[union-attr]
        for info, body in rewrite(members):
            dst.addfile(info, io.BytesIO(body))
    return bad


def _manifest_edit(edit):
    def rewrite(members):
        for info, body in members:
            if info.name == mf.MANIFEST:
                data = json.loads(body)
                edit(data)
                body = json.dumps(data).encode()
                info.size = len(body)
            yield info, body
    return rewrite


@pytest.mark.parametrize(("rewrite", "reason"), [
    (lambda ms: ((i, b) for i, b in ms if i.name != mf.MANIFEST), "has no repro-case.json"),
    (_manifest_edit(lambda d: d.update(format=99)), "has format 99; this repro reads format 1"),
    (_manifest_edit(lambda d: d.pop("files")), "is not a case manifest"),
    (_manifest_edit(lambda d: d["files"].update({"project/ghost": {"sha256": "0", "size": 1}})),
     "project/ghost is in its manifest but not in the case"),
    (_manifest_edit(lambda d: d["scenario"].update(path="scenarios/X")),
     "names the scenario scenarios/X, but the case has no"),
    (lambda ms: [*ms, *ms[-1:]], "appears twice"),
])
def test_a_case_that_does_not_match_its_manifest_is_refused(project, tmp_path, rewrite,
                                                            reason) -> None:
    bad = _case_with(project, tmp_path, rewrite)
    with pytest.raises(ConfigError) as caught:
        unpack(bad, tmp_path / "out")
    [line] = caught.value.lines()
    assert reason in line and "bad.tar.gz" in line, line
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if "unpacking" in p.name] == []


def test_unpack_refuses_a_folder_that_is_not_empty(project, tmp_path) -> None:
    bad = _case_with(project, tmp_path, lambda ms: ms)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me\n")
    with pytest.raises(ConfigError, match="exists and is not empty"):
        unpack(bad, tmp_path / "full")
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep me\n"


def test_images_go_into_the_case_and_only_missing_ones_are_loaded(project, tmp_path) -> None:
    from repro.case.unpack import load_images

    from ..fake_backend import FakeBackend

    out = _project(project)
    here = FakeBackend()
    here.saved = {"fake/built:built": b"layers of the built image",
                  "fake-base/tools": b"tools layers"}
    packed = pack(plan_scenario(Path("scenarios/S")), out, lambda m: None, here)
    assert packed.images == ("fake/built:built", "fake-base/tools")
    unpacked = unpack(out, tmp_path / "u")
    assert [i.file for i in unpacked.manifest.images] == ["images/01.tar", "images/02.tar"]
    there = FakeBackend()
    there.saved = {"fake-base/tools": b"tools layers"}
    assert load_images(unpacked, there, lambda m: None) == ["fake/built:built"]
    assert there.saved["fake/built:built"] == b"layers of the built image"


def test_a_case_is_not_written_into_the_folder_it_carries(project) -> None:
    _project(project)
    with pytest.raises(ConfigError, match="the case would pack itself"):
        pack(plan_scenario(Path("scenarios/S")), project.root / "scenarios/S/c.tar.gz",
             lambda m: None)
    assert not (project.root / "scenarios/S/c.tar.gz").exists()
