"""The project's own configuration: `repro.yaml` at the project root (optional).

Settings that hold for every scenario of the project, each of which a scenario may
override with the same key. Validated like every other file (file:line, did you mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repro.config import units
from repro.config.schema import build, spec
from repro.config.yaml_source import load_yaml
from repro.errors import ConfigError, Problem

SETTINGS_FILE = "repro.yaml"


@dataclass(frozen=True)
class ProjectSettings:
    """What `repro.yaml` may say."""

    retention: float | None = spec(None, parse=units.duration,
                                   schema={"type": ["number", "string"], "examples": ["30d"]},
                                   doc="Keep run records this long, e.g. 30d; older ones "
                                   "are deleted after each run of their scenario")


def project_settings(root: Path) -> ProjectSettings:
    """The settings of the project at `root`; the defaults when it has no repro.yaml."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        return ProjectSettings()
    src = load_yaml(path)
    if src.empty:
        return ProjectSettings()
    if not isinstance(src.data, dict):
        raise ConfigError(Problem(src.file, None, "", "the project settings must be a "
                                  "mapping, e.g. `retention: 30d`"))
    return build(ProjectSettings, src)
