"""Benchmark: from `repro run` to the first step, with a PostgreSQL service to wait for.

Against the same work done by a plain Docker SDK script: a private internal network,
the database container, polling `pg_isready` inside it every 0.25 s (repro's default
interval), then the steps' container, up to the moment the first step's exec starts.
(Debian's docker-compose 1.29 has no `up --wait`, so the SDK script stands in for it.)
Both are fresh processes; the image (environments/billing) must be built: run
`repro run scenarios/NORD-88-fixed` once first. Writes bench/SERVICES_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LABEL = {"bench": "repro-service-startup"}

SCENARIO = """\
environment: billing
steps:
  - {name: first, run: "true"}
oracle: {any: [{step: first, failed: true}]}
"""


def sdk_child(image: str) -> None:
    """The hand-written equivalent; prints seconds from its own start to the first exec."""
    started = time.time()
    import docker

    engine = docker.from_env()
    name = f"bench-svc-{os.getpid()}"
    net = engine.networks.create(name, internal=True, labels=LABEL)
    made = []
    try:
        db = engine.containers.create(image, name=f"{name}-db", hostname="db", labels=LABEL,
                                      network=name)
        made.append(db)
        db.start()
        while db.exec_run(["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres"])[0]:
            time.sleep(0.25)
        box = engine.containers.create(image, ["sh", "-c", "sleep 3600"], name=name,
                                       labels=LABEL, network=name, entrypoint=[])
        made.append(box)
        box.start()
        first = time.time()
        box.exec_run(["true"])
        print(json.dumps({"to_first_step": first - started}))
    finally:
        for container in made:
            container.remove(force=True)
        net.remove()


def via_repro(root: Path) -> float:
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "repro", "run", "scenarios/svc", "--json"],
                          cwd=root, capture_output=True, text=True, check=False)
    record = json.loads((root / json.loads(done.stdout)["record"]).read_text())
    first = datetime.fromisoformat(record["steps"][0]["started_at"]).timestamp()
    return first - started


def via_sdk(image: str) -> float:
    done = subprocess.run([sys.executable, __file__, "--sdk-child", image], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)["to_first_step"]


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--sdk-child":
        sdk_child(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=BENCH / "SERVICES_RESULTS.md")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "repro")], check=True)
    times: dict[str, list[float]] = {"repro": [], "sdk": []}
    with tempfile.TemporaryDirectory(prefix="repro-svcbench-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "environments" / "billing", root / "environments" / "billing")
        shutil.copy(REPO / "environments" / "billing.yaml", root / "environments")
        (root / "scenarios" / "svc").mkdir(parents=True)
        (root / "scenarios" / "svc" / "scenario.yaml").write_text(SCENARIO)
        via_repro(root)  # warm-up; also makes sure the image is cached
        image = json.loads(next((root / ".repro" / "runs").glob("*/record.json")).read_text())
        image = image["image"]["ref"]
        for i in range(args.rounds):
            for way in (("repro", "sdk") if i % 2 == 0 else ("sdk", "repro")):
                times[way].append(via_repro(root) if way == "repro" else via_sdk(image))
            print(f"round {i + 1}: " + ", ".join(f"{w} {times[w][-1]:.2f} s" for w in times),
                  file=sys.stderr)
    med = {w: statistics.median(t) for w, t in times.items()}
    text = "\n".join([
        "# Time to the first step with a PostgreSQL service", "",
        f"Command: `python bench/service_startup.py --rounds {args.rounds}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores", "",
        "| way | median s | min s | max s |", "|---|---:|---:|---:|",
        *(f"| {w} | {med[w]:.2f} | {min(t):.2f} | {max(t):.2f} |" for w, t in times.items()),
        "", f"- repro / SDK script (medians): **{med['repro'] / med['sdk']:.2f}x** "
        f"(target: not slower, <= 1.00x: {'met' if med['repro'] <= med['sdk'] else 'MISSED'})",
        "", "Measured from launching the process to the first step's exec starting. repro "
        "also validates and plans the scenario, looks the image up, writes the record and "
        "tears everything down (after the measured point); the SDK script does the same "
        "engine work by hand: internal network, database container, readiness polling with "
        "pg_isready every 0.25 s, the steps' container, first exec.", ""])
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
