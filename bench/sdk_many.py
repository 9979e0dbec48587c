"""The engine floor for bench/replay_speed.py: its scenarios' container work, SDK calls only.

For each of COUNT scenarios, minimal_sdk.one_run: a container with no network and the
engine's init, the rendered config file copied in, the step `cat` as its command, its
output read and checked, the container removed; JOBS at a time, from threads of one
process. No YAML, no plan, no record, no oracle: what is left of a replay when repro's own
work is taken away.

usage: python bench/sdk_many.py --jobs N --count N [--no-copy]
"""

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from minimal_sdk import one_run, tar_of

IMAGE = "repro-base/busybox"
CONFIG = "/etc/app/app.conf"
EXPECTED = b"greeting = hello\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--no-copy", action="store_true",
                        help="write the config file in the step's own shell, as the docker "
                             "run side does, instead of copying it in")
    args = parser.parse_args()
    api = docker.APIClient()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "app.conf"
        config.write_bytes(EXPECTED)  # repro renders it from the template per scenario
        payload = tar_of({str(config): CONFIG})

    command = f"cat {CONFIG}"
    if args.no_copy:
        command = f"mkdir -p {CONFIG.rsplit('/', 1)[0]} && printf %s '{EXPECTED.decode()}' > " \
                  f"{CONFIG} && {command}"

    def scenario(_: int) -> bool:
        code, out, _err = one_run(api, IMAGE, command, None if args.no_copy else payload)
        return code == 0 and out == EXPECTED

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(scenario, range(args.count)))
    if not all(results):
        print(f"{results.count(False)} of {args.count} runs did not print the config",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
