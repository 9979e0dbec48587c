"""`repro-case.json`: what a case holds. Every file with its sha256 and size, so a case
modified after packing (a byte changed, a file added or removed) is refused whole.

It proves integrity, not origin: whoever can rewrite the case can rewrite the manifest
too. Share cases the way customer data is shared (docs/cases.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repro import __version__
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem

FORMAT = 1
MANIFEST = "repro-case.json"
PROJECT = "project"  # the project's files, under their paths from its root
IMAGES = "images"  # `docker save` tars (with --with-images)


@dataclass(frozen=True)
class CaseImage:
    ref: str
    id: str
    file: str  # its tar in the case


@dataclass(frozen=True)
class Manifest:
    scenario_id: str
    scenario: str  # the scenario folder, relative to the project
    files: dict[str, tuple[str, int]]  # name in the case -> (sha256, size)
    images: tuple[CaseImage, ...] = ()
    created: str = ""
    repro_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "repro_version": self.repro_version,
                "scenario": {"id": self.scenario_id, "path": self.scenario},
                "created": self.created or datetime.now(UTC).isoformat(timespec="seconds"),
                "files": {name: {"sha256": digest, "size": size}
                          for name, (digest, size) in sorted(self.files.items())},
                "images": [{"ref": i.ref, "id": i.id, "file": i.file} for i in self.images]}


def refused(case: Path, message: str) -> ConfigError:
    """One line naming the case and what is wrong with it."""
    return ConfigError(Problem(display_path(case), None, "", f"{message}; refusing the case "
                               "(pack it again from the project)"))


def read(case: Path, raw: bytes) -> Manifest:
    """The manifest as packed; a malformed one is a refusal, not a crash."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        if not isinstance(data.get("format"), int) or data["format"] > FORMAT:
            raise refused(case, f"{MANIFEST} has format {data.get('format')!r}; this repro "
                          f"reads format {FORMAT} (a newer repro packed it: upgrade repro)")
        files = {str(name): (str(v["sha256"]), int(v["size"]))
                 for name, v in data["files"].items()}
        images = tuple(CaseImage(str(i["ref"]), str(i["id"]), str(i["file"]))
                       for i in data.get("images", []))
        scenario = data["scenario"]
        return Manifest(str(scenario["id"]), str(scenario["path"]), files, images,
                        str(data.get("created", "")), str(data.get("repro_version", "")))
    except ConfigError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise refused(case, f"{MANIFEST} is not a case manifest ({exc})") from None


def verify(case: Path, manifest: Manifest, found: dict[str, tuple[str, int]]) -> None:
    """`found` (each unpacked file's sha256 and size) is exactly what the manifest lists."""
    for name in sorted(found):
        if name not in manifest.files:
            raise refused(case, f"{name} is not in its manifest (a file added after packing)")
        digest, size = found[name]
        if (digest, size) != manifest.files[name]:
            raise refused(case, f"{name}: its sha256 differs from the manifest's (modified "
                          "after packing)")
    missing = sorted(set(manifest.files) - set(found))
    if missing:
        raise refused(case, f"{missing[0]} is in its manifest but not in the case"
                      + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    scenario = f"{PROJECT}/{manifest.scenario}/scenario.yaml"
    if scenario not in found:
        raise refused(case, f"the manifest names the scenario {manifest.scenario}, but the case "
                      f"has no {scenario}")
    for image in manifest.images:
        if image.file not in found:
            raise refused(case, f"image {image.ref}: {image.file} is not in the case")
