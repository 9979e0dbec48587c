"""What does the access log's sha256 of the customer files cost a run with 1 GB of data?

One scenario copies one data file (1 GiB of random bytes by default) into a busybox
sandbox. Each round runs it once with the `repro` package as of `--before` (the files
hashed in a pass of their own after the run) and once with this tree's (hashed as the
data tar reads them), each in a fresh process, interleaved after one warm-up round each.
Inside the process the phases are timed: packing the data tar, copying it into the
sandbox, writing the log line. Writes bench/DATA_HASH_RESULTS.md.

usage: python bench/data_hash.py [--rounds N] [--before REV] [--data FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from revision import package_at

BENCH = Path(__file__).resolve().parent
SIZE = 1 << 30

ENVIRONMENT = "image: repro-base/busybox\n"
SCENARIO = """\
environment: bench
data:
  - from: data.bin
    to: /srv/data.bin
steps:
  - name: size
    run: wc -c /srv/data.bin
oracle:
  any:
    - step: size
      stdout: "{size} /srv/data.bin"
"""

# Runs in the measured process: the phases timed by wrapping the functions that do them
# (present under these names before and after the change).
DRIVER = """
import functools, json, resource, sys, time
from pathlib import Path
times = {}
def timed(owner, name, label):
    real = getattr(owner, name)
    @functools.wraps(real)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - start
    setattr(owner, name, wrapper)
from repro.execute import archive
from repro.results import access_log
from repro.sandbox.docker import container
timed(archive, "pack", "pack")
timed(access_log, "append", "log line")
for cls in vars(container).values():
    if isinstance(cls, type) and "copy_in" in vars(cls):
        timed(cls, "copy_in", "copy in")
from repro import pipeline
start = time.perf_counter()
plan, expected = pipeline.prepare(Path(sys.argv[1]), [])
outcome = pipeline.run(plan, lambda line: None, expected)
times["run"] = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
times["cpu"] = usage.ru_utime + usage.ru_stime
assert outcome.record.reproduced, outcome.record.error
print(json.dumps(times))
"""

PHASES = ("pack", "copy in", "log line", "run", "cpu")
NOTES = "<!-- notes: kept when the figures above are refreshed -->"


def make_project(root: Path, data: Path | None) -> int:
    (root / "environments").mkdir()
    (root / "environments" / "bench.yaml").write_text(ENVIRONMENT)
    scenario = root / "scenarios" / "bench"
    scenario.mkdir(parents=True)
    target = scenario / "data.bin"
    if data is not None:
        try:
            os.link(data, target)  # inside the project, as a customer's file is
        except OSError:
            shutil.copyfile(data, target)
    else:
        with target.open("wb") as out:
            for _ in range(SIZE >> 20):
                out.write(os.urandom(1 << 20))
    size = target.stat().st_size
    (scenario / "scenario.yaml").write_text(SCENARIO.format(size=size))
    return size


def one_run(tree: Path, root: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", DRIVER, "scenarios/bench"], cwd=root,
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(tree)})
    if done.returncode != 0:
        raise SystemExit(f"run failed ({tree}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: dict[str, list[dict[str, float]]]) -> list[str]:
    lines = ["| phase (s) | " + " | ".join(f"{way} median | {way} min | {way} max"
                                           for way in results) + " |",
             "|---|" + "---:|" * (3 * len(results))]
    for phase in PHASES:
        cells = []
        for runs in results.values():
            values = [r.get(phase, 0.0) for r in runs]
            cells += [f"{statistics.median(values):.2f}", f"{min(values):.2f}",
                      f"{max(values):.2f}"]
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", default="d5e47c1",
                        help="the revision whose repro hashed the files after the run")
    parser.add_argument("--data", type=Path, help="a data file to use instead of 1 GiB of "
                        "random bytes made on the spot")
    parser.add_argument("--out", type=Path, default=BENCH / "DATA_HASH_RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="repro-bench-hash-") as scratch:
        before = package_at(args.before, Path(scratch) / "before")
        root = Path(scratch) / "project"
        root.mkdir()
        size = make_project(root, args.data)
        ways = {"before": before, "after": BENCH.parent}
        load = os.getloadavg()[0]
        for tree in ways.values():  # warm-up: image cached, data in the page cache
            one_run(tree, root)
        results: dict[str, list[dict[str, float]]] = {way: [] for way in ways}
        for number in range(args.rounds):
            for way, tree in ways.items():
                results[way].append(one_run(tree, root))
                print(f"round {number + 1} {way}: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in results[way][-1].items()), flush=True)
    rows = table(results)
    saved = statistics.median(r["log line"] for r in results["before"]) - statistics.median(
        r["log line"] for r in results["after"])
    text = "\n".join([
        "# The access log's sha256 on a run with 1 GB of data", "",
        f"Command: `python bench/{Path(__file__).name} --rounds {args.rounds} --before "
        f"{args.before}" + (" --data FILE" if args.data else "") + "`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {len(os.sched_getaffinity(0))} CPUs, kernel {platform.release()}, "
        f"Python {platform.python_version()}; load average (1 min) before: {load:.2f}  ",
        f"Data: one file of {size:,} bytes (in the page cache after the warm-up)", "",
        f"{args.rounds} rounds, each way in a fresh process, interleaved. `pack`: the data "
        "tar written (spooled to a temporary file), `copy in`: the tar into the sandbox, "
        "`log line`: the access-log line (the separate hashing pass before), `run`: the "
        "whole run in the process, `cpu`: the process's user + system time.", "",
        *rows, "",
        f"The log line costs {saved:.2f} s less (medians).", ""])
    kept = ""
    if args.out.is_file() and NOTES in args.out.read_text():
        kept = "\n" + NOTES + args.out.read_text().split(NOTES, 1)[1]
    args.out.write_text(text + kept)
    print(text)


if __name__ == "__main__":
    main()
