"""What does the clock cost a run?

Runs the same scenario with and without `clock:` as fresh `repro run --json` processes,
interleaved round-robin after one warm-up round each, and compares the medians (one run:
the difference and the ratio). The plain case is one step in the steps' container of the
Debian base; `--service` adds the same comparison with a PostgreSQL service (the billing
image, built beforehand: `repro run scenarios/NORD-88-fixed`). Writes bench/CLOCK_RESULTS.md.

usage: python bench/clock_cost.py [--rounds N] [--service] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TARGET_MS = 50.0
CLOCK = 'clock: {at: "2024-01-31T00:29:30Z"}\n'

PLAIN_ENV = "image: repro-base/debian:bookworm\n"
SERVICE_ENV = f"""\
image: {{build: {{context: {REPO / "environments/billing/image"}}}}}
env: {{PGHOST: db, PGUSER: postgres}}
services:
  db:
    image: {{build: {{context: {REPO / "environments/billing/image"}}}}}
    ready: {{command: pg_isready -q -h 127.0.0.1 -U postgres, timeout: 60s}}
"""
STEP = {"plain": "date -u +%F", "service": "psql -XAtc 'select current_date'"}


def scenario(kind: str, clocked: bool) -> str:
    return (f"environment: {kind}\n" + (CLOCK if clocked else "")
            + f'steps: [{{name: s, run: "{STEP[kind]}"}}]\n'
            + "oracle: {any: [{step: s, failed: true}]}\n")


def one_run(root: Path, sid: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "repro", "run", f"scenarios/{sid}", "--json"],
                          cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    took = (time.perf_counter() - started) * 1000
    result = json.loads(done.stdout)
    if result["status"] != "complete":
        raise SystemExit(f"{sid}: {result['error']}")
    record = json.loads((root / result["record"]).read_text())
    return took, record["steps"][0]["stdout"].strip()


def compare(root: Path, kind: str, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"without": [], "with": []}
    sids = {"without": f"{kind}-real", "with": f"{kind}-clock"}
    for number in range(rounds + 1):
        order = ["without", "with"] if number % 2 else ["with", "without"]
        for side in order:
            took, out = one_run(root, sids[side])
            wanted = "2024-01-31" if side == "with" else datetime.now(UTC).strftime("%Y-%m-%d")
            if out != wanted:
                raise SystemExit(f"{sids[side]} printed {out!r}, not {wanted!r}")
            if number:  # round 0 warms up (and makes the clock's volume once)
                times[side].append(took)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--service", action="store_true")
    parser.add_argument("--out", type=Path, default=BENCH / "CLOCK_RESULTS.md")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "repro")], check=True)
    kinds = ["plain"] + (["service"] if args.service else [])
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="repro-bench-clock-") as tmp:
        root = Path(tmp)
        for kind in kinds:
            (root / "environments").mkdir(exist_ok=True)
            (root / "environments" / f"{kind}.yaml").write_text(
                PLAIN_ENV if kind == "plain" else SERVICE_ENV)
            for side, clocked in (("real", False), ("clock", True)):
                folder = root / "scenarios" / f"{kind}-{side}"
                folder.mkdir(parents=True)
                (folder / "scenario.yaml").write_text(scenario(kind, clocked))
            times = compare(root, kind, args.rounds)
            without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
            rows.append((kind, without, with_))
            print(f"{kind}: without {without:.0f} ms, with {with_:.0f} ms, "
                  f"+{with_ - without:.0f} ms ({with_ / without:.3f}x)")
    engine = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# What the clock costs a run", "",
        f"Command: `python bench/clock_cost.py --rounds {args.rounds}"
        + (" --service" if args.service else "") + "`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        f"Machine: {os.cpu_count()} cores, load average {load:.2f} before the rounds, "
        f"{platform.platform()}, Docker engine {engine}, Python {platform.python_version()}.",
        "", f"Medians of {args.rounds} rounds (after 1 warm-up), wall time of `repro run "
        "--json` as a fresh process, the two sides interleaved:", "",
        "| run | without clock | with clock | difference | ratio | target |",
        "|---|---:|---:|---:|---:|---|"]
    for kind, without, with_ in rows:
        what = ("one step, Debian base" if kind == "plain" else
                "one step + a PostgreSQL service (billing image)")
        verdict = ("met" if with_ - without < TARGET_MS else "**MISSED**") \
            if kind == "plain" else "none (informative)"
        lines.append(f"| {what} | {without:.0f} ms | {with_:.0f} ms | "
                     f"{with_ - without:+.0f} ms | {with_ / without:.3f}x | "
                     f"< {TARGET_MS:.0f} ms: {verdict} |" if kind == "plain" else
                     f"| {what} | {without:.0f} ms | {with_:.0f} ms | {with_ - without:+.0f} ms "
                     f"| {with_ / without:.3f}x | {verdict} |")
    lines += ["", "What the clock adds: the library is mounted read-only from the host's "
              "cache (~/.cache/repro; a remote engine gets it copied in); the steps' "
              "container gets its setting in the environment and PID 1 prints `date +%s` "
              "at start, read back from its log (the "
              "check); each process started after the first step gets its setting in the "
              "exec's environment. A service also gets its setting file copied in at "
              "creation and rewritten when the clock starts, and one `date +%s` exec as its "
              "check. The first run on a new image also reads the image's C library version "
              "once (cached by image id in ~/.cache/repro/clock-images.json).", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
