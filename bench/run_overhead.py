"""How much does `repro run` cost over doing the same sandbox run by hand?

Times one small cached-image scenario three ways, each as fresh processes, interleaved
round-robin after one warm-up round: (a) `repro run --json`, (b) bench/minimal_sdk.py,
(c) the equivalent `docker` CLI commands. Also times interpreter/CLI start-up. Prints a
table and writes it to bench/RESULTS.md.

usage: python bench/run_overhead.py [--rounds N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import docker
from minimal_sdk import LABELS, one_run, tar_of
from revision import package_at

BENCH = Path(__file__).resolve().parent
IMAGE = "repro-base/busybox"
SCENARIO_ID = f"bench-overhead-{os.getpid()}"  # repro labels its sandbox with this id
CONFIG, DATA = "/etc/bench/app.conf", "/data/lines.csv"
STEP = f"cat {CONFIG} {DATA}"
EXPECTED = ("greeting=bonjour", "ACME,42")  # from the parameter and from the data file
TARGET_SDK_RATIO = 1.20
TARGET_RUN_RATIO = 1.50  # repro run / docker run --rm
NOTES = "<!-- notes: kept when the figures above are refreshed -->"

ENVIRONMENT = f"""\
image: {IMAGE}
parameters:
  greeting: hello
files:
  - path: {CONFIG}
    content: "greeting={{{{ greeting }}}}\\n"
"""
SCENARIO = f"""\
id: {SCENARIO_ID}
environment: bench
parameters:
  greeting: bonjour
data:
  - from: lines.csv
    to: {DATA}
steps:
  - name: show
    run: {STEP}
oracle:
  all:
    - step: show
      stdout: "{EXPECTED[0]}"
    - step: show
      stdout: "{EXPECTED[1]}"
"""


def make_project(root: Path) -> dict[str, str]:
    """The throw-away project, plus the rendered config as a file for the baselines."""
    (root / "environments").mkdir()
    (root / "environments" / "bench.yaml").write_text(ENVIRONMENT)
    scenario = root / "scenarios" / "bench"
    scenario.mkdir(parents=True)
    (scenario / "scenario.yaml").write_text(SCENARIO)
    (scenario / "lines.csv").write_text("customer,amount\nACME,42\nGlobex,7\n")
    (root / "app.conf").write_text("greeting=bonjour\n")  # what repro renders
    return {str(root / "app.conf"): CONFIG, str(scenario / "lines.csv"): DATA}


def timed(argv: list[str], cwd: Path | None = None, stdin: bytes | None = None,
          env: dict[str, str] | None = None) -> tuple:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, check=False,
                          env=env)
    elapsed = time.perf_counter() - started
    if done.returncode in (130, -signal.SIGINT):
        raise KeyboardInterrupt  # the child got our Ctrl-C
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: "
                           f"{done.stderr.decode(errors='replace').strip()[-500:]}")
    return elapsed, done.stdout.decode(errors="replace")


def check_output(way: str, text: str) -> None:
    if not all(e in text for e in EXPECTED):
        raise RuntimeError(f"{way}: the step output lacks {EXPECTED}: {text[:300]!r}")


def via_repro(root: Path, copies: dict, tar: bytes, code: Path | None = None) -> float:
    """`code`: a folder holding another version's `repro` package to run instead."""
    env = {**os.environ, "PYTHONPATH": str(code)} if code is not None else None
    elapsed, out = timed([sys.executable, "-m", "repro", "run", "scenarios/bench", "--json"],
                         cwd=root, env=env)
    result = json.loads(out)
    if not (result["status"] == "complete" and result["reproduced"] and result["ok"]):
        raise RuntimeError(f"repro run did not complete as expected: {result}")
    record = json.loads((root / result["record"]).read_text())
    check_output("repro", record["steps"][0]["stdout"] or "")
    return elapsed


def via_sdk(root: Path, copies: dict, tar: bytes) -> float:
    elapsed, out = timed([sys.executable, str(BENCH / "minimal_sdk.py"), IMAGE, STEP,
                          *(f"{src}={dest}" for src, dest in copies.items())])
    check_output("sdk", out)
    return elapsed


def via_engine_calls(root: Path, copies: dict, tar: bytes) -> float:
    """minimal_sdk.py's engine calls made from this warm process: no start-up, no import.

    What any Python program pays the engine for this work, once it is running."""
    api = _warm_api()
    started = time.perf_counter()
    code, out, _ = one_run(api, IMAGE, STEP, tar)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"engine calls: the step exited {code}")
    check_output("engine calls", out.decode(errors="replace"))
    return elapsed


def via_engine_calls_no_copy(root: Path, copies: dict, tar: bytes) -> float:
    """The same calls without the copy: the command writes the files itself, as the
    `docker run` way does (what the copy costs, by difference)."""
    api = _warm_api()
    started = time.perf_counter()
    code, out, _ = one_run(api, IMAGE, f"{_writes(copies)}; {STEP}", None)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"engine calls without the copy: the step exited {code}")
    check_output("engine calls without the copy", out.decode(errors="replace"))
    return elapsed


def _writes(copies: dict) -> str:
    """Shell commands writing the copied files in the container (no upload)."""
    return "; ".join(f"mkdir -p {os.path.dirname(dest)}; "
                     f"printf %s {shlex.quote(Path(src).read_text())} > {dest}"
                     for src, dest in copies.items())


_API: list[docker.APIClient] = []


def _warm_api() -> docker.APIClient:
    if not _API:
        _API.append(docker.APIClient())
    return _API[0]


def via_cli(root: Path, copies: dict, tar: bytes) -> float:
    """Sum of the docker commands' wall times (the tar is made once, outside the timing)."""
    label = [f"--label={k}={v}" for k, v in LABELS.items()]
    total, cid = timed(["docker", "create", "--init", "--network", "none", *label,
                        "--entrypoint", "sh", IMAGE, "-c", STEP])
    cid = cid.strip()
    try:
        total += timed(["docker", "cp", "-", f"{cid}:/"], stdin=tar)[0]
        elapsed, out = timed(["docker", "start", "-a", cid])
        total += elapsed
        check_output("cli", out)
    finally:
        total += timed(["docker", "rm", "-f", cid])[0]
    return total


def via_docker_run(root: Path, copies: dict, tar: bytes) -> float:
    """One `docker run --rm` writing the same two files in the container and reading them."""
    writes = _writes(copies)
    elapsed, out = timed(["docker", "run", "--rm", "--network", "none",
                          *(f"--label={k}={v}" for k, v in LABELS.items()), IMAGE, "sh", "-c",
                          f"{writes}; {STEP}"])
    check_output("docker run", out)
    return elapsed


def before(rev: str, folder: Path):  # noqa: ANN201 - a way like the others
    """The `repro` package as of `rev`, byte-compiled in `folder`, as a way to time."""
    package_at(rev, folder)
    return lambda root, copies, tar: via_repro(root, copies, tar, folder)


def sweep(engine: docker.DockerClient) -> int:
    """Remove whatever this benchmark created (by label); returns how many were left."""
    left = 0
    for label in [f"{k}={v}" for k, v in LABELS.items()] + [f"io.repro.scenario={SCENARIO_ID}"]:
        for container in engine.containers.list(all=True, filters={"label": label}):
            container.remove(force=True, v=True)
            left += 1
    return left


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest rank


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def startup(rounds: int) -> dict[str, list[float]]:
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "python -c 'import docker'": [sys.executable, "-c", "import docker"],
                "repro --help": [sys.executable, "-m", "repro", "--help"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(rounds + 1):
        for name, argv in commands.items():
            elapsed = timed(argv)[0]
            if i:  # round 0 is the warm-up
                times[name].append(elapsed)
    return times


def report(args: argparse.Namespace, runs: dict, starts: dict, facts: dict) -> str:
    med = {way: statistics.median(t) for way, t in runs.items()}
    vs_sdk, vs_cli = med["repro"] / med["sdk"], med["repro"] / med["cli"]
    vs_run = med["repro"] / med["docker run"]
    rows = [f"| {way} | {ms(med[way])} | {ms(p90(t))} | {ms(min(t))} | {ms(max(t))} |"
            for way, t in runs.items()]
    start_rows = [f"| `{name}` | {ms(statistics.median(t))} | {ms(p90(t))} |"
                  for name, t in starts.items()]
    ok = {True: "met", False: "**MISSED**"}
    floor_start = statistics.median(starts["python -c 'import docker'"])
    floor = floor_start + med["engine calls"]
    no_copy = med["engine calls, no copy"]
    lines = [
        "# repro run overhead", "",
        f"Command: `{facts['command']}`  ", f"Date: {facts['date']}", "",
        "| machine | |", "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items() if k not in ("command", "date")), "",
        f"## One sandbox run, {args.rounds} rounds (after 1 warm-up), wall time in ms", "",
        "| way | median | p90 | min | max |", "|---|---:|---:|---:|---:|", *rows, "",
        f"- repro / SDK (medians): **{vs_sdk:.2f}x** "
        f"(target <= {TARGET_SDK_RATIO:.2f}x: {ok[vs_sdk <= TARGET_SDK_RATIO]})",
        f"- repro / CLI (medians): **{vs_cli:.2f}x** (target < 1.00x: {ok[vs_cli < 1]})",
        f"- repro / `docker run --rm` (medians): **{vs_run:.2f}x** "
        f"(target <= {TARGET_RUN_RATIO:.2f}x: {ok[vs_run <= TARGET_RUN_RATIO]})",
        *(f"- {way} / `docker run --rm` (medians): {med[way] / med['docker run']:.2f}x "
          "(the same rounds, for comparison)" for way in runs if way.startswith("repro ")),
        f"- minimal SDK script / CLI (medians): {med['sdk'] / med['cli']:.2f}x.",
        "", "## The floor under any fresh Python process using the SDK", "",
        f"- the engine calls alone, from a warm process: {ms(med['engine calls'])} ms = "
        f"{med['engine calls'] / med['docker run']:.2f}x `docker run --rm` (which writes its "
        "files with printf instead of copying them in);",
        f"- of which the copy of the files: {ms(med['engine calls'] - no_copy)}"
        f" ms (the same calls with the files written by the command instead: "
        f"{ms(med['engine calls, no copy'])} ms = "
        f"{med['engine calls, no copy'] / med['docker run']:.2f}x `docker run --rm`);",
        "- plus starting Python and `import docker` (timed apart, after the rounds): "
        f"{ms(floor_start)} ms;",
        f"- **floor: {ms(floor)} ms = {floor / med['docker run']:.2f}x `docker run --rm`**, "
        f"against the target's {TARGET_RUN_RATIO:.2f}x = "
        f"{ms(TARGET_RUN_RATIO * med['docker run'])} ms"
        + (": the target lies below the floor, out of reach of any program that starts "
           "Python, imports the SDK and copies the files in" if floor / med["docker run"]
           > TARGET_RUN_RATIO else "") + ";",
        f"- repro above the floor: {ms(med['repro'] - floor)} ms (its other imports, "
        "reading and planning the scenario, the record, the oracle, the summary).", "",
        f"## Start-up alone, {args.rounds} rounds (after 1 warm-up), wall time in ms", "",
        "| command | median | p90 |", "|---|---:|---:|", *start_rows, "",
        "## What is timed", "",
        "The same work every way: a fresh container from the cached `repro-base/busybox` "
        "image (`network_mode=none`), one tar with a small config file and a small data "
        "file copied in, one step `" + STEP + "` whose stdout and stderr are read, removal. "
        "repro, the SDK script and the CLI run the step as the container's own command "
        "under the engine's init (what `repro run` does for a one-step scenario with "
        "nothing else to run in its sandbox); `docker run` writes the files with printf in "
        "the same command instead of copying them in. The ways run interleaved "
        "round-robin (order rotated every round); the step's output is checked every time, "
        "outside the timing.", "",
        "- **repro**: wall time of `python -m repro run scenarios/bench --json` as a fresh "
        "process. Includes interpreter start-up and imports, loading and validating the "
        "YAML, rendering the config from the parameter, the image lookup, one unversioned "
        "/version query (it also picks the API version, so the SDK does not negotiate), "
        "container create, copy, attach, start, wait, writing the step's stdout/stderr "
        "files and `record.json`, evaluating the oracle, printing the JSON summary, and "
        "removing the container.",
        "- **sdk**: wall time of `python bench/minimal_sdk.py ...` as a fresh process: "
        "interpreter start-up, `import docker`, building the tar in memory, `from_env` "
        "(one version round trip), create, `put_archive`, attach, start, wait, print, "
        "remove, with the SDK's low-level calls. It takes the config already rendered "
        "and writes no record, evaluates no oracle.",
        "- **engine calls**: the same calls as the SDK script (`minimal_sdk.one_run`) made "
        "from this benchmark's own process, timed around the calls only: no interpreter "
        "start-up, no import, the API version already known.",
        "- **engine calls, no copy**: the same, but the command writes the files with printf "
        "(as `docker run` does) and nothing is copied in.",
        "- **cli**: the sum of the wall times of `docker create --init --network none`, "
        "`docker cp - CID:/` (tar on stdin), `docker start -a`, `docker rm -f`, each a "
        "separate `docker` process run from Python without a shell. Each includes the "
        "CLI's own start-up and API-version negotiation. Not counted: building the tar "
        "(once, in memory, before the rounds) and Python's bookkeeping between commands.",
        "- **docker run**: wall time of one `docker run --rm --network none` whose command "
        "writes the two files with printf and runs the step: create, attach, start, wait, "
        "remove, by the CLI (its start-up included). No upload, no init, no record.",
        "- Not counted anywhere: building the image (cached beforehand), the warm-up round, "
        "and the cleanup sweep.",
        "- repro's modules are byte-compiled first (`compileall`), as a wheel install "
        "would have them; the docker SDK already is (site-packages).",
        "- p90 is nearest-rank over the rounds; with few rounds it is close to the maximum.",
        ""]
    return "\n".join(lines)


def machine_facts(engine: docker.DockerClient, argv: list[str], load: float) -> dict[str, str]:
    version = engine.version()
    cli = subprocess.run(["docker", "version", "--format", "{{.Client.Version}}"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return {"command": shlex.join(["python", *argv]),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(len(os.sched_getaffinity(0))),
            "load average (1 min) before the rounds": f"{load:.2f}",
            "cpu": _cpu_model(), "kernel": platform.release(),
            "Docker engine": f"{version.get('Version')} (API {version.get('ApiVersion')})",
            "docker CLI": cli or "?", "Docker SDK for Python": docker.__version__,
            "Python": platform.python_version()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--before", metavar="GIT_REV",
                        help="also time repro as of this revision, in the same rounds")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    # As installed from a wheel, repro runs from bytecode; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would recompile every module on every run instead.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(BENCH.parent / "repro")],
                   check=True)
    load = os.getloadavg()[0]
    engine = docker.from_env()
    engine.images.get(IMAGE)  # cached: `repro base busybox` creates it offline
    ways = {"repro": via_repro, "sdk": via_sdk, "engine calls": via_engine_calls,
            "engine calls, no copy": via_engine_calls_no_copy, "cli": via_cli,
            "docker run": via_docker_run}
    runs: dict[str, list[float]] = {way: [] for way in ways}
    try:
        with tempfile.TemporaryDirectory(prefix="repro-bench-") as tmp:
            root = Path(tmp)
            copies = make_project(root)
            tar = tar_of(copies)
            if args.before:
                ways[f"repro {args.before}"] = before(args.before, root / "before")
                runs[f"repro {args.before}"] = []
            for i in range(args.rounds + 1):
                order = list(ways)[i % len(ways):] + list(ways)[:i % len(ways)]
                for way in order:
                    elapsed = ways[way](root, copies, tar)
                    if i:  # round 0 is the warm-up
                        runs[way].append(elapsed)
                done = ", ".join(f"{w} {ms(runs[w][-1])} ms" for w in ways) if i else "done"
                print(f"round {i or 'warm-up'}: {done}", file=sys.stderr)
    finally:
        left = sweep(engine)
        if left:
            print(f"warning: removed {left} container(s) left behind", file=sys.stderr)
    starts = startup(args.rounds)
    text = report(args, runs, starts, machine_facts(engine, sys.argv, load))
    kept = ""  # notes written by hand below the marker survive a refresh of the figures
    if args.out.is_file() and NOTES in args.out.read_text():
        kept = "\n" + NOTES + args.out.read_text().split(NOTES, 1)[1]
    args.out.write_text(text + kept)
    print(text)
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; containers removed")
