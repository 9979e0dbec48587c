"""How fast `repro redact` pseudonymises a large CSV, and in how much memory.

Generates a customer export (`;`-separated, invoice lines: a contact name, an e-mail and
an IBAN per line, DISTINCT customers repeated) in a temporary folder, makes a throw-away
project whose scenario names those three columns, and runs the real command line
(`python -m repro redact`) on it. Wall time gives the throughput; the child's peak RSS
comes from getrusage(RUSAGE_CHILDREN).

    python bench/redact_speed.py [--size 1G] [--distinct 50000] [--csv FILE] [--audit]
    python bench/redact_speed.py --audit-only [--size 200M] [--before GIT_REV]

`repro redact --no-audit` is timed (the rewriting); with --audit, `repro audit` of the
copy is timed after it. With --audit-only, only `repro audit` of the redacted copy (every
line an e-mail and an IBAN token) is timed, and with --before the audit of repro as of
GIT_REV too, in the same run (both must give the same output).

Results: bench/REDACT_RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision import package_at

REPO = Path(__file__).resolve().parents[1]
FIRST = ["Max", "Anna", "Lukas", "Marie", "Paul", "Sophie", "Jonas", "Emma", "Leon", "Mia",
         "Ben", "Lea", "Felix", "Hannah", "Elias", "Lina", "Noah", "Clara", "Finn", "Ida"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann"]
ITEMS = ["Kassenrollen 57 mm (50 Stk.)", "Druckerpapier A4 (5 x 500 Bl.)", "Toner schwarz",
         "Ordner breit, blau (20 Stk.)", "Montage und Lieferung", "Etiketten 70 x 36 mm"]


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units \
        else int(text)


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randrange(10**17, 10**18)}"
    check = 98 - int(bban + "131400") % 97  # DE = 13 14
    return f"DE{check:02d}{bban}"


def generate(path: Path, size: int, distinct: int) -> int:
    rng = random.Random(4521)
    people = []
    for i in range(distinct):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append(f"{first} {last};{first.lower()}.{last.lower()}{i}@kunde-mail.de;"
                      f"{_iban(rng)}")
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("invoice;date;contact;email;iban;description;amount\n")
        written = 0
        while written < size:
            batch = []
            for _ in range(20000):
                batch.append(f"RE-{lines:09d};{rng.randint(1, 28):02d}.03.2024;"
                             f"{people[rng.randrange(distinct)]};{rng.choice(ITEMS)};"
                             f"{rng.randint(1, 999999) / 100:.2f}\n")
                lines += 1
            text = "".join(batch)
            out.write(text)
            written += len(text.encode())
    return lines


SCENARIO = """\
environment: bench
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
privacy:
  - files: customer/*.csv
    columns: {contact: name, email: email, iban: iban}
"""


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def _tree(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            kids = [int(k) for k in children.read().split()]
    except OSError:
        return [pid]
    return [pid] + [p for kid in kids for p in _tree(kid)]


def run_sampled(cmd: list[str], **kwargs: object) -> tuple[subprocess.CompletedProcess[str],
                                                           float]:
    """Run `cmd`; also the peak of the summed RSS of it and its children (MiB), sampled
    every 50 ms: with worker processes the sum is what the machine must hold."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)  # type: ignore[call-overload]
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_rss_kib(p) for p in _tree(proc.pid)))
        time.sleep(0.05)
    out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), peak / 1024


def reference_loop() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this machine is at the moment
    (a shared machine's figure moves with its neighbours' load; ~0.3s on an idle one)."""
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - started


def time_audit(code: Path, project: Path, env: dict[str, str], size: int, name: str
               ) -> str:
    """`repro audit` of the copy with the repro package in `code`: its output."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    scan, summed = run_sampled([sys.executable, "-m", "repro", "audit",
                                "scenarios/BENCH/customer"], cwd=project,
                               env={**env, "PYTHONPATH": str(code)})
    took = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (usage.ru_utime + usage.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime)
    print(f"audit ({name}): exit {scan.returncode}, {size / 1e6:.0f} MB in {took:.1f}s wall, "
          f"{size / took / 1e6:.1f} MB/s; {spent:.1f}s CPU; peak RSS {summed:.0f} MiB (all "
          f"processes at once); load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after", flush=True)
    return scan.stdout + scan.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1G", help="CSV size (e.g. 200M, 1G)")
    parser.add_argument("--distinct", type=int, default=50000, help="distinct customers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--csv", type=Path, help="use this export instead of generating one")
    parser.add_argument("--audit", action="store_true", help="also time `repro audit` of "
                        "the copy")
    parser.add_argument("--audit-only", action="store_true", help="time `repro audit` of "
                        "the copy only")
    parser.add_argument("--before", metavar="GIT_REV", help="with --audit-only: also time "
                        "the audit of repro as of this revision")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="redact-bench-"))
    try:
        inbox, project = work / "inbox", work / "project"
        inbox.mkdir()
        (project / "environments").mkdir(parents=True)
        (project / "environments" / "bench.yaml").write_text("image: busybox\n")
        (project / "scenarios" / "BENCH").mkdir(parents=True)
        (project / "scenarios" / "BENCH" / "scenario.yaml").write_text(SCENARIO)
        csv_path = inbox / "export.csv"
        started = time.perf_counter()
        if args.csv:
            os.link(args.csv, csv_path) if args.csv.stat().st_dev == inbox.stat().st_dev \
                else shutil.copy(args.csv, csv_path)
            print(f"export: {args.csv}", flush=True)
        else:
            lines = generate(csv_path, _size(args.size), args.distinct)
            print(f"generated {lines} lines, {args.distinct} distinct customers in "
                  f"{time.perf_counter() - started:.0f}s", flush=True)
        size = csv_path.stat().st_size
        print(f"reference loop: {reference_loop():.2f}s CPU", flush=True)
        env = {**os.environ, "PYTHONPATH": str(REPO), "REPRO_PRIVACY_KEY": "bench-key-" + "0" * 32}
        started = time.perf_counter()
        done, summed = run_sampled([sys.executable, "-m", "repro", "redact",
                                    "scenarios/BENCH", "--from", str(inbox), "--no-audit"],
                                   cwd=project, env=env)
        took = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            return 1
        print(done.stdout.strip())
        if args.audit_only:
            after = time_audit(REPO, project, env, size, "this version")
            if args.before:
                old = time_audit(package_at(args.before, work / "before"), project, env, size,
                                 args.before)
                if old != after:
                    print(f"different output:\n{after[-2000:]}\n{old[-2000:]}",
                          file=sys.stderr)
                    return 1
                print("same output from both versions")
            return 0
        # CPU time too: on a shared machine the wall clock also counts others' work.
        print(f"redact: {size / 1e6:.0f} MB in {took:.1f}s wall, {size / took / 1e6:.1f} MB/s; "
              f"{cpu:.1f}s CPU, {size / cpu / 1e6:.1f} MB/s of CPU; peak RSS {peak:.0f} MiB "
              f"(largest process), {summed:.0f} MiB (all processes at once); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        if args.audit:
            started = time.perf_counter()
            scan = subprocess.run([sys.executable, "-m", "repro", "audit",
                                   "scenarios/BENCH/customer"], cwd=project, env=env,
                                  capture_output=True, text=True)
            took = time.perf_counter() - started
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            spent = usage.ru_utime + usage.ru_stime - cpu
            print(f"audit: exit {scan.returncode}, {took:.1f}s wall, {size / took / 1e6:.1f} "
                  f"MB/s; {spent:.1f}s CPU, {size / spent / 1e6:.1f} MB/s of CPU")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
