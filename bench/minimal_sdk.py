"""Baseline for bench/run_overhead.py: one sandbox run written directly against the Docker SDK.

The same engine work as `repro run` for the benchmark's scenario, and nothing more:
create (no network, repro's keep-alive PID 1), copy one tar in, start, exec one step with
stdout/stderr separated, print its output, remove.

usage: python bench/minimal_sdk.py IMAGE SHELL-COMMAND SRC=DEST [SRC=DEST ...]
"""

import io
import sys
import tarfile

import docker

# Copied from repro/sandbox/docker_sandbox.py (KEEPALIVE), so both run the same PID 1.
KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
LABELS = {"bench": "repro-run-overhead"}


def main() -> int:
    image, command, *copies = sys.argv[1:]
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        for pair in copies:
            source, dest = pair.split("=", 1)
            tar.add(source, arcname=dest.lstrip("/"))
    container = docker.from_env().containers.create(
        image, entrypoint=KEEPALIVE, command=[], network_mode="none", labels=LABELS)
    try:
        container.put_archive("/", payload.getvalue())
        container.start()
        code, (out, err) = container.exec_run(["sh", "-c", command], demux=True)
        sys.stdout.buffer.write(out or b"")
        sys.stderr.buffer.write(err or b"")
    finally:
        container.remove(force=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
