"""How fast `repro report` writes, and Chromium opens, the page of a run whose
1,000,000-line log diverged from its baseline in a few lines.

The run folder is made here: a record.json whose step wrote the 1,000,000-line log and
whose baseline comparison comes from repro's own comparison of that log with the
baseline's (compare.diff.compare, as `repro run` does). Then, `--rounds` times each:
`repro report` in a fresh process (wall time), and headless Chromium loading the page:
the page's own load time (`performance.now()` at the load event, which the page records
on <html data-loaded-ms>), and Chromium's whole wall time against an empty page's.

    python bench/report_speed.py [--lines 1000000] [--changes 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from repro.compare.channels import Channel  # noqa: E402
from repro.compare.diff import compare  # noqa: E402


def make_run(folder: Path, lines: int, changes: int) -> dict:
    steps = folder / "steps"
    steps.mkdir(parents=True)
    every = lines // (changes + 1)
    changed = {every * (k + 1) for k in range(changes)}
    with (folder / "baseline.log").open("w") as old, (steps / "01-app.stdout").open("w") as new:
        for i in range(lines):
            line = f"2024-03-05 14:22:{i % 60:02d} INFO worker-{i % 8} processed batch {i} ok\n"
            old.write(line)
            new.write(line.replace(" ok\n", " FAILED: invalid amount\n") if i in changed
                      else line)
    (steps / "01-app.stderr").write_text("")
    log = steps / "01-app.stdout"
    started = time.perf_counter()
    comparison = compare([Channel("steps.app.stdout", "text", path=folder / "baseline.log")],
                         [Channel("steps.app.stdout", "text", path=log)])
    compare_s = time.perf_counter() - started
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    record = {
        "format": 1, "run_id": "BENCH-1", "status": "complete", "error": None,
        "scenario": {"id": "BENCH", "title": "a million-line log", "ticket": None,
                     "path": "scenarios/BENCH/scenario.yaml"},
        "environment": {"name": "bench", "path": "environments/bench.yaml"},
        "expected": "reproduces", "reproduced": True, "ok": True, "started_at": now,
        "ended_at": now, "duration_s": 1.0, "parameters": {"rows": lines},
        "parameters_from": {"rows": "scenarios/BENCH/scenario.yaml:5"},
        "image": {"ref": "repro-base/busybox"}, "services": {}, "facts": {},
        "sandbox": {"network_egress": False}, "data": [],
        "steps": [{"name": "app", "command": "app --batches", "status": "ok", "exit_code": 0,
                   "started_at": now, "ended_at": now, "duration_s": 1.0, "stdout": None,
                   "stdout_bytes": log.stat().st_size, "stdout_file": "steps/01-app.stdout",
                   "stderr": "", "stderr_bytes": 0, "stderr_file": "steps/01-app.stderr"}],
        "faults": [], "captures": [],
        "oracle": {"mode": "any", "fired": True, "conditions": [
            {"condition": "step 'app' stdout matches /FAILED/", "fired": True,
             "observed": "stdout: FAILED: invalid amount"}]},
        "baseline": comparison.to_dict(), "timeline_start": now,
        "events": [{"offset_s": 0.0, "at": now, "kind": "start", "entry": "app"},
                   {"offset_s": 1.0, "at": now, "kind": "end", "entry": "app",
                    "detail": "exit 0"}],
        "when": None, "purpose": "run"}
    (folder / "record.json").write_text(json.dumps(record))
    (folder / "baseline.log").unlink()
    return {"compare_s": compare_s, "log_bytes": log.stat().st_size}


def chromium(page: Path) -> tuple[float, int | None]:
    """Chromium's wall time for the page, and the page's own load time (ms)."""
    with tempfile.TemporaryDirectory() as profile:
        began = time.perf_counter()
        done = subprocess.run([shutil.which("chromium") or "chromium", "--headless",
                               "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                               "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
        wall = time.perf_counter() - began
    found = re.search(r'data-loaded-ms="(\d+)"', done.stdout)
    return wall, int(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "BENCH-1"
        made = make_run(folder, args.lines, args.changes)
        empty = Path(tmp) / "empty.html"
        empty.write_text("<!DOCTYPE html><title>empty</title>")
        writes, cpus, loads, walls, empties = [], [], [], [], []
        for _ in range(args.rounds):
            began = time.perf_counter()
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([sys.executable, "-m", "repro", "report", str(folder)],
                                  capture_output=True, text=True, env=env, cwd=tmp)
            if done.returncode != 0:
                sys.exit(f"repro report failed: {done.stderr}")
            writes.append(time.perf_counter() - began)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime)
            wall, loaded = chromium(folder / "report.html")
            walls.append(wall)
            loads.append(loaded)
            empties.append(chromium(empty)[0])
        page = folder / "report.html"
        print(f"# `repro report` on a run with a {args.lines:,}-line diverged log\n")
        print(f"Command: `python bench/report_speed.py --lines {args.lines} --changes "
              f"{args.changes} --rounds {args.rounds}`  ")
        print(f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; Python "
              f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at the end"
              "\n")
        print("| what | median | rounds |")
        print("|---|---:|---|")
        print(f"| the log ({args.changes} lines changed) | {made['log_bytes'] / 1e6:.0f} MB | |")
        print(f"| comparison at run time (once, for the record) | {made['compare_s']:.2f} s | |")
        print(f"| `repro report` (a new process, page written) | {statistics.median(writes):.2f} s"
              f" | {', '.join(f'{w:.2f}' for w in writes)} |")
        print(f"| `repro report`, CPU time (user + system) | {statistics.median(cpus):.2f} s | "
              f"{', '.join(f'{c:.2f}' for c in cpus)} |")
        print(f"| page size | {page.stat().st_size / 1024:.0f} KiB | |")
        known = [x for x in loads if x is not None]
        print(f"| page load in Chromium (load event, `performance.now()`) | "
              f"{statistics.median(known) / 1000 if known else float('nan'):.2f} s | "
              f"{', '.join(str(x) for x in loads)} ms |")
        print(f"| Chromium headless, whole process, this page | {statistics.median(walls):.2f} s"
              f" | {', '.join(f'{w:.2f}' for w in walls)} |")
        print(f"| Chromium headless, whole process, an empty page | "
              f"{statistics.median(empties):.2f} s | {', '.join(f'{w:.2f}' for w in empties)} |")


if __name__ == "__main__":
    main()
