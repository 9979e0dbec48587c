"""A page as a real browser renders it: headless Chromium's DOM after its scripts ran,
read back into a small element tree; and a screenshot CI keeps (.ci/artifacts/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".ci" / "artifacts"  # CI uploads what lands here (gitignored)
TIMEOUT = 90
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must render the HTML report in Chromium, but `chromium` is missing: "
                    ".ci/setup installs it")
    pytest.skip("no chromium to render the page with")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    # Root in a container-less host needs --no-sandbox; a profile of its own per call.
    with tempfile.TemporaryDirectory(prefix="repro-chromium-") as profile:
        return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=TIMEOUT)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    parts: list[str | Element] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        out = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                out.append(child)
            out += child.all(tag, cls)
        return out

    def by_id(self, ident: str) -> Element | None:
        return next((e for e in self.all() if e.attrs.get("id") == ident), None)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        self.stack[-1].parts.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def rendered(page: Path) -> Element:
    """The DOM Chromium built from the page, after its scripts ran."""
    done = _chromium("--dump-dom", page.resolve().as_uri())
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    builder = _Builder()
    builder.feed(done.stdout)
    return builder.root


def screenshot(page: Path, name: str) -> Path:
    """A 1280 px wide screenshot in .ci/artifacts/ (CI keeps it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    done = _chromium(f"--screenshot={target}", "--window-size=1280,2000",
                     "--hide-scrollbars", page.resolve().as_uri())
    assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]
    return target
