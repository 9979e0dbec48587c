"""Hostile bundles: each refused with one line naming the entry, exit 2, and nothing left
behind (no scenario folder, no half-extracted folder beside it); the bundle untouched."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

ENV = "image: busybox\nparameters: {version: '1.0'}\n"


def _tar(path: Path, *members: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, body in members:
            tar.addfile(info, io.BytesIO(body) if body is not None else None)
    return path


def _file(name: str, body: bytes = b"x\n") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(body)
    return info, body


def _special(name: str, kind: bytes, **attrs: object) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, None


def traversal_zip(folder: Path) -> Path:
    path = folder / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("logs/app.log", "2024-01-01 00:00:00 INFO ok\n")
        zf.writestr("../x", "escaped\n")
    return path


def absolute_tar(folder: Path) -> Path:
    return _tar(folder / "bundle.tar.gz", _file("settings.ini"), _file("/etc/cron.d/x"))


def symlink_out_tar(folder: Path) -> Path:
    return _tar(folder / "bundle.tgz", _file("settings.ini"),
                _special("logs", tarfile.SYMTYPE, linkname="../../../var/log"))


def through_symlink_tar(folder: Path) -> Path:
    return _tar(folder / "bundle.tar.gz",
                _special("logs", tarfile.SYMTYPE, linkname="."),  # inside, but then
                _file("logs/placed.txt"))  # placed through it


def hardlink_out_tar(folder: Path) -> Path:
    return _tar(folder / "bundle.tar.gz", _file("a.txt"),
                _special("b.txt", tarfile.LNKTYPE, linkname="../../etc/passwd"))


def fifo_tar(folder: Path) -> Path:
    return _tar(folder / "bundle.tar.gz", _file("settings.ini"),
                _special("run/app.pipe", tarfile.FIFOTYPE))


def device_tar(folder: Path) -> Path:
    return _tar(folder / "bundle.tar", _special("dev/sda", tarfile.BLKTYPE, devmajor=8),
                _file("settings.ini"))


def symlink_out_folder(folder: Path) -> Path:
    bundle = folder / "bundle"
    (bundle / "logs").mkdir(parents=True)
    (bundle / "logs" / "app.log").write_text("2024-01-01 00:00:00 INFO ok\n")
    os.symlink("/etc/passwd", bundle / "logs" / "passwd")
    return bundle


def fifo_folder(folder: Path) -> Path:
    bundle = folder / "bundle"
    bundle.mkdir()
    (bundle / "settings.ini").write_text("[app]\nversion = 1.0\n")
    os.mkfifo(bundle / "pipe")
    return bundle


def bomb_zip(folder: Path) -> Path:
    path = folder / "bundle.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("logs/app.log", b"\0" * (64 * 1024 * 1024))  # ~1000x
    return path


def many_entries_zip(folder: Path) -> Path:
    path = folder / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(100_001):  # one over the default bound
            zf.writestr(f"f/{i}", b"")
    return path


CASES = {
    "traversal": (traversal_zip, "bundle.zip: archive entry '../x' points outside its folder"),
    "absolute": (absolute_tar, "bundle.tar.gz: archive entry '/etc/cron.d/x' points outside"),
    "symlink out": (symlink_out_tar, "bundle.tgz: archive entry 'logs' points outside"),
    "through symlink": (through_symlink_tar, "bundle.tar.gz: archive entry 'logs/placed.txt' "
                        "points outside"),
    "hard link out": (hardlink_out_tar, "bundle.tar.gz: hard link 'b.txt' points outside"),
    "fifo": (fifo_tar, "bundle.tar.gz: entry 'run/app.pipe' is a fifo: a support bundle "
             "holds files and folders only; refusing it"),
    "device": (device_tar, "bundle.tar: entry 'dev/sda' is a block device"),
    "folder symlink out": (symlink_out_folder, "bundle: symlink 'logs/passwd' points outside "
                           "the bundle (-> /etc/passwd); refusing it"),
    "folder fifo": (fifo_folder, "bundle: entry 'pipe' is a fifo"),
    "zip bomb": (bomb_zip, "bundle.zip: entry 'logs/app.log' expands 1"),
    "100k entries": (many_entries_zip, "bundle.zip: more than 100000 entries (reached at "
                     "'f/100000'), over the entry limit; raise it with `--limit entries=200000`"),
}


def _digest(path: Path) -> dict[str, str]:
    if path.is_file():
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    return {str(p.relative_to(path)): (hashlib.sha256(p.read_bytes()).hexdigest()
                                       if p.is_file() and not p.is_symlink() else "")
            for p in path.rglob("*")}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_bundle_is_refused_in_one_line_and_leaves_nothing(case, project, cli,
                                                                    tmp_path_factory):
    build, expected = CASES[case]
    project.environment("app", ENV)
    bundle = build(tmp_path_factory.mktemp("in"))
    before = _digest(bundle)

    result = cli("new", "T-1", "--from", str(bundle))

    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    shown = lines[0].replace(str(bundle.parent) + "/", "")
    assert shown.startswith("repro: error: " + expected.split(":")[0]), shown
    assert expected in shown, shown
    assert not (project.root / "scenarios").exists()  # not even an empty scenarios/
    assert _digest(bundle) == before
    assert result.stdout == ""


def test_an_entry_placed_twice_as_file_and_folder_is_refused(project, cli, tmp_path_factory):
    project.environment("app", ENV)
    (project.root / "scenarios").mkdir()
    bundle = _tar(tmp_path_factory.mktemp("in") / "b.tar", _file("a"), _file("a/b"))

    result = cli("new", "T-1", "--from", str(bundle))

    assert result.exit_code == 2
    assert result.stderr.strip().endswith("b.tar: entry 'a/b' is a file and a folder at "
                                          "once in the bundle (or lies under a file); "
                                          "refusing it")
    assert list((project.root / "scenarios").iterdir()) == []  # the temp folder is gone


def test_following_the_refusals_hint_raises_the_bound(project, cli, tmp_path_factory):
    project.environment("app", ENV)
    bundle = bomb_zip(tmp_path_factory.mktemp("in"))
    refused = cli("new", "T-1", "--from", str(bundle))
    hint = refused.stderr.split("raise it with `", 1)[1].split("`", 1)[0]
    option, value = hint.split(" ")

    accepted = cli("new", "T-1", "--from", str(bundle), option, value)

    assert accepted.exit_code == 0, accepted.stderr
    log = project.root / "scenarios/T-1/customer/app.log"  # its only folder unwrapped
    assert log.stat().st_size == 64 * 1024 * 1024
