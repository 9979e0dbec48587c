"""Ctrl-C while a bundle is being unpacked: exit 130, one line, and no scenario folder nor
half-unpacked folder left (the real CLI in a subprocess, interrupted mid-copy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_an_interrupted_new_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/app.yaml").write_text("image: busybox\n")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    with (bundle / "big.bin").open("wb") as big:
        big.truncate(1024**3)  # sparse: costs nothing here, a gigabyte to copy
    proc = subprocess.Popen([sys.executable, "-m", "repro", "new", "T-1", "--from", str(bundle)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("scenarios/.T-1.*.new/customer/big.bin")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the copy never started"
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert err == "repro: error: interrupted by SIGINT\n" and out == ""
    assert not (tmp_path / "scenarios").exists()
    assert (bundle / "big.bin").stat().st_size == 1024**3
