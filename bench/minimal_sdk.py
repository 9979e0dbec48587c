"""Baseline for the benchmarks: one sandbox run written directly against the Docker SDK.

The same engine work as `repro run` for a one-step scenario, and nothing more: create (no
network, the step as the container's command under the engine's init), copy one tar in,
attach, start, wait, read the step's output, remove. Low-level API calls only (the
high-level `containers.create` adds an inspect that repro does not make), so this is the
least any Python program driving the engine through the SDK pays for the same work.

usage: python bench/minimal_sdk.py IMAGE SHELL-COMMAND SRC=DEST [SRC=DEST ...]
"""

import io
import sys
import tarfile

import docker

LABELS = {"bench": "repro-run-overhead"}


def tar_of(copies: dict[str, str]) -> bytes:
    """A tar holding each source file at its destination path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for source, dest in copies.items():
            tar.add(source, arcname=dest.lstrip("/"))
    return buffer.getvalue()


def one_run(api: docker.APIClient, image: str, command: str, payload: bytes | None
            ) -> tuple[int, bytes, bytes]:
    """One sandbox run: exit status, stdout, stderr. `payload` None: nothing is copied in
    (the command writes its files itself, as a `docker run` of them would)."""
    host = api.create_host_config(network_mode="none", init=True)
    cid = api.create_container(image, entrypoint=["sh", "-c", command], command=[],
                               host_config=host, labels=LABELS)["Id"]
    try:
        if payload is not None:
            api.put_archive(cid, "/", payload)
        output = api.attach(cid, stdout=True, stderr=True, stream=True, demux=True)
        api.start(cid)
        out, err = [], []
        for chunk_out, chunk_err in output:
            out.append(chunk_out or b"")
            err.append(chunk_err or b"")
        code = api.wait(cid)["StatusCode"]
    finally:
        api.remove_container(cid, force=True)
    return code, b"".join(out), b"".join(err)


def main() -> int:
    image, command, *pairs = sys.argv[1:]
    payload = tar_of(dict(pair.split("=", 1) for pair in pairs))
    api = docker.APIClient()  # picks the API version with one /version round trip
    code, out, err = one_run(api, image, command, payload)
    sys.stdout.buffer.write(out)
    sys.stderr.buffer.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
