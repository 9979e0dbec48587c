"""Replaying many small scenarios: `repro replay --jobs 4` against `--jobs 1` and against
the same container work done with `docker run --rm`, sequentially and four at a time.

40 scenarios on the busybox base, each writing its config file (/etc/app/app.conf, from a
template) and running one step that reads it. The `docker run` side does the same work
per scenario: a container with no network writes the file and cats it, then is removed.
The SDK floor (bench/sdk_many.py) makes only the engine calls a replay makes, from one
Python process: the least the engine asks of any program doing this work through the SDK.
Every way is timed as a whole command from the shell (interpreter start and imports
included for repro), interleaved round-robin (the order rotated every round) after one
warm-up round, in one run of this
script, so the ratios compare like with like on the same machine at the same moment.

Prints a table and writes it to bench/REPLAY_RESULTS.md (or --out).

usage: python bench/replay_speed.py [--rounds N] [--count N] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from revision import package_at

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
IMAGE = "repro-base/busybox"
TARGETS = {  # ratio: (numerator, denominator, at most / at least, value)
    "jobs 4 vs jobs 1 (speed-up)": ("replay --jobs 1", "replay --jobs 4", ">=", 1.7),
    "jobs 4 / docker run loop": ("replay --jobs 4", "docker run loop", "<=", 0.6),
    "jobs 4 / docker run, 4 at a time": ("replay --jobs 4", "docker run, 4 at a time", "<=",
                                         1.0),
}
FLOORS = {  # ratio: (numerator, denominator): the same ratios for the engine work alone
    "SDK floor 4 at a time / docker run, 4 at a time": ("SDK floor, 4 at a time",
                                                        "docker run, 4 at a time"),
    "SDK floor 4 at a time / docker run loop": ("SDK floor, 4 at a time", "docker run loop"),
    "SDK floor speed-up, 4 at a time over 1": ("SDK floor, 1 at a time",
                                               "SDK floor, 4 at a time"),
    "docker run speed-up, 4 at a time over the loop": ("docker run loop",
                                                       "docker run, 4 at a time"),
    "replay --jobs 4 / SDK floor 4 at a time (repro's own share)": ("replay --jobs 4",
                                                                    "SDK floor, 4 at a time"),
    "SDK floor / the same without the copy, 4 at a time (the copy's share)": (
        "SDK floor, 4 at a time", "SDK floor without the copy, 4 at a time"),
    "SDK floor without the copy 4 at a time / docker run, 4 at a time": (
        "SDK floor without the copy, 4 at a time", "docker run, 4 at a time"),
}
ENVIRONMENT = """\
image: repro-base/busybox
parameters:
  greeting: hello
files:
  - path: /etc/app/app.conf
    content: "greeting = {{ greeting }}\\n"
"""
SCENARIO = """\
environment: bench
title: small case {n}
steps:
  - {{name: read, run: "cat /etc/app/app.conf"}}
oracle:
  any: [{{step: read, stdout: "greeting = hello"}}]
"""
NOTES = "<!-- notes: kept when the figures above are refreshed -->"
SHELL_WORK = "mkdir -p /etc/app && echo 'greeting = hello' > /etc/app/app.conf && " \
    "cat /etc/app/app.conf"


def project(root: Path, count: int) -> None:
    (root / "environments").mkdir(parents=True)
    (root / "environments" / "bench.yaml").write_text(ENVIRONMENT)
    for n in range(count):
        folder = root / "scenarios" / f"case-{n:03d}"
        folder.mkdir(parents=True)
        (folder / "scenario.yaml").write_text(SCENARIO.format(n=n))


def timed(cmd: list[str], cwd: Path) -> float:
    code = str(REPO)
    if cmd[0] == "PYTHONPATH":  # another version of repro (--before)
        code, cmd = cmd[1], cmd[2:]
    env = {**os.environ, "PYTHONPATH": code, "NO_COLOR": "1"}
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return took


def ways(root: Path, count: int) -> dict[str, list[str]]:
    (root / "one.sh").write_text(f"docker run --rm --network none {IMAGE} sh -c "
                                 f"\"{SHELL_WORK}\" >/dev/null\n")
    return {
        "replay --jobs 1": [sys.executable, "-m", "repro", "replay", "--jobs", "1"],
        "replay --jobs 4": [sys.executable, "-m", "repro", "replay", "--jobs", "4"],
        "docker run loop": ["bash", "-c", f"for i in $(seq {count}); do sh one.sh; done"],
        "docker run, 4 at a time": ["bash", "-c", f"seq {count} | xargs -P 4 -n 1 sh one.sh"],
        "SDK floor, 1 at a time": [sys.executable, str(BENCH / "sdk_many.py"), "--jobs", "1",
                                   "--count", str(count)],
        "SDK floor, 4 at a time": [sys.executable, str(BENCH / "sdk_many.py"), "--jobs", "4",
                                   "--count", str(count)],
        "SDK floor without the copy, 4 at a time": [
            sys.executable, str(BENCH / "sdk_many.py"), "--jobs", "4", "--count", str(count),
            "--no-copy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--out", type=Path, default=BENCH / "REPLAY_RESULTS.md")
    parser.add_argument("--before", metavar="GIT_REV",
                        help="also time `--jobs 4` of repro as of this revision")
    args = parser.parse_args()
    # As installed from a wheel, repro runs from bytecode (not recompiled on every start
    # under PYTHONDONTWRITEBYTECODE).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "repro")], check=True)
    root = Path(tempfile.mkdtemp(prefix="repro-bench-replay-"))
    try:
        project(root, args.count)
        commands = ways(root, args.count)
        if args.before:
            commands[f"replay --jobs 4, {args.before}"] = [
                "PYTHONPATH", str(package_at(args.before, root.parent / f"{root.name}-before")),
                *commands["replay --jobs 4"]]
        load = os.getloadavg()[0]
        for cmd in commands.values():  # warm-up: the image cache, the page cache
            timed(cmd, root)
        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_ in range(args.rounds):
            # Rotated every round: no way is always timed right after the same other one.
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                times[name].append(timed(commands[name], root))
                shutil.rmtree(root / ".repro", ignore_errors=True)  # records of this round
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(root.parent / f"{root.name}-before", ignore_errors=True)
    report(args, times, load)


def report(args: argparse.Namespace, times: dict[str, list[float]], load: float) -> None:
    engine = subprocess.run(["docker", "version", "--format", "{{.Server.Version}} (API "
                             "{{.Server.APIVersion}})"], capture_output=True,
                            text=True).stdout.strip()
    med = {name: statistics.median(values) for name, values in times.items()}
    lines = [
        "# Replaying many small scenarios",
        "",
        f"Command: `python bench/replay_speed.py --rounds {args.rounds} --count {args.count}`"
        "  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| machine | |", "|---|---|",
        f"| nproc | {os.cpu_count()} |",
        f"| load average (1 min) before the rounds | {load:.2f} |",
        f"| kernel | {platform.release()} |",
        f"| Docker engine | {engine} |",
        f"| Python | {platform.python_version()} |",
        "",
        f"{args.count} scenarios (busybox, a templated config file, one step reading it); "
        "the docker side: one `docker run --rm --network none` per scenario writing the "
        "same file and reading it; the SDK floor: `bench/sdk_many.py`, the engine calls a "
        "one-step replay makes (create with init and no network, copy the config in, "
        "attach, start, wait, remove) from threads of one Python process, with no YAML, "
        "plan, record or oracle. Whole commands timed from the shell, interleaved "
        "rounds after one warm-up.",
        "",
        f"## wall time in seconds over {args.rounds} rounds",
        "",
        "| way | median | min | max |", "|---|---:|---:|---:|",
    ]
    for name, values in times.items():
        lines.append(f"| {name} | {med[name]:.2f} | {min(values):.2f} | {max(values):.2f} |")
    lines.append("")
    for label, (num, den, sense, target) in TARGETS.items():
        ratio = med[num] / med[den]
        met = ratio >= target if sense == ">=" else ratio <= target
        lines.append(f"- {label} (medians): **{ratio:.2f}x** (target {sense} {target:.2f}x: "
                     f"{'met' if met else 'MISSED'})")
    lines += ["", "What the engine itself allows, in the same rounds (no target):", ""]
    for label, (num, den) in FLOORS.items():
        lines.append(f"- {label} (medians): {med[num] / med[den]:.2f}x")
    for name in med:
        if name.startswith("replay --jobs 4, "):
            lines.append(f"- {name} / docker run, 4 at a time (medians): "
                         f"{med[name] / med['docker run, 4 at a time']:.2f}x (the same rounds, "
                         "for comparison)")
    text = "\n".join(lines) + "\n"
    print(text)
    kept = ""  # notes written by hand below the marker survive a refresh of the figures
    if args.out.is_file() and NOTES in args.out.read_text():
        kept = "\n" + NOTES + args.out.read_text().split(NOTES, 1)[1]
    args.out.write_text(text + kept)


if __name__ == "__main__":
    main()
