"""Baseline for bench/run_overhead.py: one sandbox run written directly against the Docker SDK.

The same engine work as `repro run` for the benchmark's one-step scenario, and nothing
more: create (no network, the step as the container's command under the engine's init),
copy one tar in, attach, start, wait, print the step's output, remove.

usage: python bench/minimal_sdk.py IMAGE SHELL-COMMAND SRC=DEST [SRC=DEST ...]
"""

import io
import sys
import tarfile

import docker

LABELS = {"bench": "repro-run-overhead"}


def main() -> int:
    image, command, *copies = sys.argv[1:]
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        for pair in copies:
            source, dest = pair.split("=", 1)
            tar.add(source, arcname=dest.lstrip("/"))
    engine = docker.from_env()
    container = engine.containers.create(
        image, entrypoint=["sh", "-c", command], command=[], network_mode="none",
        init=True, labels=LABELS)
    try:
        container.put_archive("/", payload.getvalue())
        output = container.attach(stdout=True, stderr=True, stream=True, demux=True)
        container.start()
        out, err = [], []
        for chunk_out, chunk_err in output:
            out.append(chunk_out or b"")
            err.append(chunk_err or b"")
        code = container.wait()["StatusCode"]
        sys.stdout.buffer.write(b"".join(out))
        sys.stderr.buffer.write(b"".join(err))
    finally:
        container.remove(force=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
