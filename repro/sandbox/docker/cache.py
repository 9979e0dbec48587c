"""What repro keeps between runs in ~/.cache/repro (or $XDG_CACHE_HOME/repro): files read
out of its tools image, and facts about images keyed by the image's id (a hash of its
content, so a fact holds on any engine). A cache: absent or broken reads as empty, and a
failure to write is ignored (the next run finds out again)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "repro"


class Facts:
    """A JSON object in one file of the cache, written whole (via a temporary file and a
    rename, so a reader never sees half of it)."""

    def __init__(self, name: str):
        self.path = cache_dir() / name
        self._data: dict[str, Any] | None = None

    def get(self, key: str) -> Any:
        if self._data is None:
            self._data = {}
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(self.path.read_text())
                if isinstance(loaded, dict):
                    self._data = loaded
        return self._data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.get(key)  # loaded first: the file's other facts are kept
        assert self._data is not None
        self._data[key] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._data, indent=1))
            tmp.replace(self.path)
        except OSError:
            pass
