"""The `repro` package as of a git revision, for a benchmark to time against this tree."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def package_at(rev: str, folder: Path) -> Path:
    """`repro` as of `rev`, byte-compiled in `folder` (made here): a PYTHONPATH entry."""
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "repro"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)
    return folder
