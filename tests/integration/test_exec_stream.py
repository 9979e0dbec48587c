"""A step's output through the engine's attached stream, in-process on a real engine."""

from __future__ import annotations

import http.client
import io
import time
import uuid
from collections.abc import Iterator

import pytest

from repro.sandbox.api import ContainerSpec, ExecRequest, ImageSpec, Sandbox, SandboxSpec
from repro.sandbox.docker.backend import DockerBackend


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    backend = DockerBackend()
    image = backend.prepare_image(ImageSpec(ref="repro-base/busybox"), "stream", lambda _: None)
    main = ContainerSpec(name="sandbox", image=image.id, command=("sleep", "600"))
    spec = SandboxSpec(run_id=f"stream-{uuid.uuid4().hex[:8]}", scenario_id="stream", main=main)
    with backend.open(spec) as opened:
        opened.main.start()
        yield opened


def _run(sandbox: Sandbox, script: str) -> tuple[bytes, bytes, int | None]:
    out, err = io.BytesIO(), io.BytesIO()
    result = sandbox.main.exec(ExecRequest(argv=("sh", "-c", script)), out, err)
    return out.getvalue(), err.getvalue(), result.exit_code


def test_output_that_arrives_with_the_response_headers_is_kept(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # A busy client reads the response's headers late: the process has printed by then,
    # and its first bytes come in the same read as the headers. They must not be lost
    # (the SDK's bare socket loses them: seen under load as a step with no output).
    begin = http.client.HTTPResponse.begin

    def late(self: http.client.HTTPResponse) -> None:
        time.sleep(0.3)
        begin(self)

    monkeypatch.setattr(http.client.HTTPResponse, "begin", late)
    assert _run(sandbox, "echo out; echo err >&2") == (b"out\n", b"err\n", 0)


def test_long_output_on_both_streams_arrives_whole(sandbox: Sandbox) -> None:
    out, err, code = _run(sandbox, "seq 1 200000; seq 1 50000 >&2; exit 3")
    assert code == 3
    assert out == "".join(f"{n}\n" for n in range(1, 200001)).encode()
    assert err == "".join(f"{n}\n" for n in range(1, 50001)).encode()
