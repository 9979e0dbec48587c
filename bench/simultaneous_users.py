"""Simultaneous users: does `repeat:` cost more than the same execs made by hand?

50 instances of a trivial step (`true`), CONCURRENCY at once, three ways, interleaved
round-robin after one warm-up round, in one run of this script:

(a) repro: `repro run --json` of a scenario with `repeat: {count: 50, concurrency: C}`;
    the time is the record's own, from the start of the timeline (before the first
    instance is started) to the end of the repeated step (after the last one ended and
    its output files were closed): the scheduler, its threads, events and files included.
(b) sdk: 50 exec calls on one running container through the Docker SDK from C threads
    (exec_create, exec_start with the output streamed, exec_inspect: what an instance
    needs to know its output and exit code), one shared client as repro has.
(c) cli: 50 `docker exec CONTAINER true` processes, C at a time.

Prints a table and writes it to bench/USERS_RESULTS.md (or --out).

usage: python bench/simultaneous_users.py [--rounds N] [--concurrency C ...] [--out FILE]
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
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import docker
from minimal_sdk import KEEPALIVE

BENCH = Path(__file__).resolve().parent
IMAGE = "repro-base/busybox"
COUNT = 50
TARGET = 1.5  # repro / by hand (SDK), medians
LABELS = {"bench": "repro-simultaneous-users"}


def scenario(concurrency: int) -> str:
    return f"""\
environment: bench
steps:
  - name: user
    run: "true"
    repeat: {{count: {COUNT}, concurrency: {concurrency}}}
oracle: {{any: [{{step: user, failed: true}}]}}
"""


def via_repro(root: Path, concurrency: int) -> float:
    folder = root / "scenarios" / f"users-{concurrency}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(scenario(concurrency))
    done = subprocess.run([sys.executable, "-m", "repro", "run", f"scenarios/{folder.name}",
                           "--json"], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    result = json.loads(done.stdout)
    record = json.loads((root / result["record"]).read_text())
    step = record["steps"][0]
    assert step["exit_codes"] == {"exit 0": COUNT}, step["exit_codes"]
    end = next(e for e in record["events"] if e["kind"] == "end" and e["entry"] == "user"
               and "instance" not in e)
    return float(end["offset_s"])


def via_sdk(engine: docker.DockerClient, container_id: str, concurrency: int) -> float:
    api = engine.api

    def one(_: int) -> int:
        exec_id = api.exec_create(container_id, ["true"], stdout=True, stderr=True)["Id"]
        for _chunk in api.exec_start(exec_id, stream=True, demux=True):
            pass
        return api.exec_inspect(exec_id)["ExitCode"]

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(one, range(COUNT)))
    took = time.perf_counter() - started
    assert codes == [0] * COUNT, codes
    return took


def via_cli(name: str, concurrency: int) -> float:
    def one(_: int) -> int:
        return subprocess.run(["docker", "exec", name, "true"], capture_output=True).returncode

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(one, range(COUNT)))
    took = time.perf_counter() - started
    assert codes == [0] * COUNT, codes
    return took


def facts(engine: docker.DockerClient) -> dict[str, str]:
    version = engine.version()
    return {"nproc": str(os.cpu_count()),
            "load average (1 min) before the rounds": f"{os.getloadavg()[0]:.2f}",
            "kernel": platform.release(),
            "Docker engine": f"{version.get('Version')} (API {version.get('ApiVersion')})",
            "Docker SDK for Python": docker.__version__,
            "Python": platform.python_version()}


def report(args: argparse.Namespace, times: dict, machine: dict) -> str:
    lines = ["# Simultaneous users (`repeat:`)", "",
             f"Command: `python bench/simultaneous_users.py --rounds {args.rounds} "
             f"--concurrency {' '.join(map(str, args.concurrency))}`  ",
             f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             "| machine | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine.items()),
             "",
             f"{COUNT} instances of `true`; repro: timeline start to the end of the repeated "
             "step, from its record; sdk: 50 exec_create/exec_start/exec_inspect from a "
             "thread pool on one client; cli: 50 `docker exec` processes from a thread pool. "
             "Same container image, same concurrency, interleaved rounds after one warm-up.",
             ""]
    for concurrency in args.concurrency:
        lines += [f"## concurrency {concurrency}: wall time in ms over {args.rounds} rounds", "",
                  "| way | median | min | max |", "|---|---:|---:|---:|"]
        medians = {}
        for way in ("repro", "sdk", "cli"):
            values = times[(concurrency, way)]
            medians[way] = statistics.median(values)
            lines.append(f"| {way} | {medians[way] * 1000:.0f} | {min(values) * 1000:.0f} | "
                         f"{max(values) * 1000:.0f} |")
        ratio = medians["repro"] / medians["sdk"]
        verdict = "met" if ratio <= TARGET else "**MISSED**"
        lines += ["", f"- repro / SDK (medians): **{ratio:.2f}x** (target <= {TARGET:.2f}x: "
                  f"{verdict})",
                  f"- repro / CLI (medians): {medians['repro'] / medians['cli']:.2f}x", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--out", type=Path, default=BENCH / "USERS_RESULTS.md")
    args = parser.parse_args()
    engine = docker.from_env(max_pool_size=64)
    machine = facts(engine)
    container = engine.containers.create(IMAGE, entrypoint=KEEPALIVE, command=[],
                                         network_mode="none", labels=LABELS)
    times: dict[tuple[int, str], list[float]] = {}
    try:
        container.start()
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "environments").mkdir()
            (root / "environments" / "bench.yaml").write_text(f"image: {IMAGE}\n")
            for round_no in range(args.rounds + 1):  # round 0 warms up
                for concurrency in args.concurrency:
                    measured = {"repro": via_repro(root, concurrency),
                                "sdk": via_sdk(engine, container.id, concurrency),
                                "cli": via_cli(container.name, concurrency)}
                    if round_no:
                        for way, took in measured.items():
                            times.setdefault((concurrency, way), []).append(took)
                print(f"round {round_no} done", file=sys.stderr)
    finally:
        container.remove(force=True)
    text = report(args, times, machine)
    print(text)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
