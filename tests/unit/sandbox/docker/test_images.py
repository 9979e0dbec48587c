"""The build cache key of an image context, and .dockerignore as Docker reads it (no engine:
images.py imports docker only where it talks to the engine)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repro.plan.values import ImagePlan
from repro.sandbox.docker import images
from repro.sandbox.docker.images import cache_key, ignore_matcher


def context(root: Path, files: dict[str, str | bytes], dockerignore: str | None = None) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        path.chmod(0o644)
    if dockerignore is not None:
        (root / ".dockerignore").write_text(dockerignore)
    return root


APP = {"Dockerfile": "FROM repro-base/busybox\nCOPY . /app\n", "app/main.sh": "echo hi\n",
       "app/lib/util.sh": "true\n", "conf/app.ini": "[app]\nport = 8080\n",
       "data.bin": bytes(range(256))}


def key(ctx: Path, **kwargs) -> str:
    return cache_key(ImagePlan(None, ctx, **kwargs))


# ---- cache_key ------------------------------------------------------------------------------


def test_the_same_context_has_the_same_key_wherever_it_lies(tmp_path):
    first = key(context(tmp_path / "a", APP))
    assert first == key(tmp_path / "a")
    assert first == key(context(tmp_path / "elsewhere/b", APP))  # a copy: only content counts
    assert len(first) == 64 and int(first, 16) >= 0  # a sha256 hex digest


@pytest.mark.parametrize("change", [
    lambda ctx: (ctx / "app/lib/util.sh").write_bytes(b"false\n"),          # a changed byte
    lambda ctx: (ctx / "data.bin").write_bytes(bytes(range(255))),          # one byte less
    lambda ctx: (ctx / "app/main.sh").chmod(0o755),                         # file mode
    lambda ctx: (ctx / "app/new.sh").write_text(""),                        # a new empty file
    lambda ctx: (ctx / "conf/app.ini").unlink(),                            # a file gone
    lambda ctx: (ctx / "conf/app.ini").rename(ctx / "conf/app.conf"),       # renamed only
], ids=["byte", "length", "mode", "new-file", "removed", "renamed"])
def test_any_change_to_a_file_of_the_context_changes_the_key(tmp_path, change):
    ctx = context(tmp_path / "ctx", APP)
    before = key(ctx)
    change(ctx)
    assert key(ctx) != before


def test_build_args_and_the_dockerfile_are_part_of_the_key(tmp_path):
    ctx = context(tmp_path / "ctx", {**APP, "Dockerfile.prod": "FROM repro-base/busybox\n"})
    plain = key(ctx)
    assert key(ctx, build_args={"VERSION": "1"}) != plain
    assert key(ctx, build_args={"VERSION": "1"}) != key(ctx, build_args={"VERSION": "2"})
    assert key(ctx, build_args={"VERSION": "1"}) != key(ctx, build_args={"RELEASE": "1"})
    assert key(ctx, dockerfile="Dockerfile.prod") != plain
    # the order args are given in does not matter
    assert key(ctx, build_args={"A": "1", "B": "2"}) == key(ctx, build_args={"B": "2", "A": "1"})


def test_files_the_dockerignore_excludes_do_not_change_the_key(tmp_path):
    ctx = context(tmp_path / "ctx", {**APP, "logs/app.log": "one\n", "debug.log": "x\n"},
                  dockerignore="logs\n*.log\n")
    before = key(ctx)
    (ctx / "logs/app.log").write_text("two\n")
    (ctx / "debug.log").chmod(0o600)
    (ctx / "logs/new/deeper.txt").parent.mkdir(parents=True)
    (ctx / "logs/new/deeper.txt").write_text("x\n")
    (ctx / "trace.log").write_text("x\n")
    assert key(ctx) == before
    (ctx / "app/trace.log").write_text("x\n")  # `*.log` is only the context's top level
    assert key(ctx) != before


def test_the_order_os_walk_lists_files_in_does_not_matter(tmp_path, monkeypatch):
    ctx = context(tmp_path / "ctx", {**APP, "b/1": "1", "b/2": "2", "a/x": "x", "c/y": "y"})
    sorted_key = key(ctx)
    real_walk = os.walk

    def reversed_walk(top, *args, **kwargs):
        # the same lists os.walk goes on with (it descends into `dirs` as left in place)
        for folder, dirs, files in real_walk(top, *args, **kwargs):
            dirs.reverse()
            files.reverse()
            yield folder, dirs, files

    monkeypatch.setattr(images.os, "walk", reversed_walk)
    assert key(ctx) == sorted_key


# ---- ignore_matcher: .dockerignore ----------------------------------------------------------


def matcher(tmp_path: Path, dockerignore: str | None):
    return ignore_matcher(context(tmp_path, {}, dockerignore))


def test_without_a_dockerignore_nothing_is_ignored(tmp_path):
    ignored = matcher(tmp_path, None)
    assert not any(ignored(p) for p in ("Dockerfile", ".git/HEAD", "a/b/c.log"))


@pytest.mark.parametrize("pattern, ignored, kept", [
    ("*.log", ["app.log", ".log"], ["logs/app.log", "app.log.1", "app.txt"]),
    ("**/*.log", ["app.log", "a/app.log", "a/b/c/app.log"], ["app.log.1", "a/app.txt"]),
    ("docs/**", ["docs/a.md", "docs/x/y/z.md"], ["docsite/a.md", "a/docs/b.md"]),
    ("a/*/c.txt", ["a/b/c.txt", "a/xyz/c.txt"], ["a/c.txt", "a/b/d/c.txt"]),
    ("file?.txt", ["file1.txt", "fileX.txt"], ["file10.txt", "file.txt", "file/.txt"]),
    ("img[0-9].png", ["img3.png"], ["imgx.png", "img10.png"]),
    ("/secret.txt", ["secret.txt"], ["sub/secret.txt"]),                  # leading / = root
    ("./build", ["build", "build/out.o"], ["src/build"]),
    ("node_modules", ["node_modules", "node_modules/a/b.js"], ["node_modules_old/x",
                                                               "src/node_modules/x"]),
    ("tmp/", ["tmp/x", "tmp/y/z"], ["tmpfile"]),                          # a folder pattern
    ("**/__pycache__", ["__pycache__/m.pyc", "pkg/sub/__pycache__/m.pyc"], ["pkg/cache.py"]),
])
def test_dockerignore_patterns(tmp_path, pattern, ignored, kept):
    check = matcher(tmp_path, pattern + "\n")
    assert [p for p in ignored if not check(p)] == []
    assert [p for p in kept if check(p)] == []


def test_comments_and_blank_lines_are_not_patterns(tmp_path):
    check = matcher(tmp_path, "# build output\n\n   \n#*.txt\n  *.o  \n")
    assert check("main.o")  # surrounding spaces are trimmed
    assert not check("notes.txt")
    assert not check("# build output")


def test_a_negation_re_includes_and_the_last_matching_pattern_wins(tmp_path):
    check = matcher(tmp_path, "*.md\n!README.md\n")
    assert check("CHANGES.md") and not check("README.md")
    check = matcher(tmp_path, "!README.md\n*.md\n")
    assert check("README.md")
    # a file inside an excluded folder can be brought back
    check = matcher(tmp_path, "data\n!data/keep.csv\n")
    assert check("data/big.csv") and not check("data/keep.csv")
    check = matcher(tmp_path, "**\n!Dockerfile\n!app/**\n")
    assert not check("Dockerfile") and not check("app/main.sh") and check("secrets.env")
