"""Engine addresses, whether an engine's processes are this host's, and the pid line a
step's wrapper puts before its stderr (on engines whose processes this host cannot see)."""

from __future__ import annotations

import io
import socket
import threading
from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.sandbox.docker.container import PID_MARK, _ReportedPid
from repro.sandbox.docker.engine import Engine, check_url


@pytest.mark.parametrize("url", ["unix:///var/run/docker.sock", "tcp://10.0.0.5:2376",
                                 "ssh://ci@build-7", "npipe:////./pipe/docker_engine"])
def test_engine_addresses_the_docker_cli_takes(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["localhost:2375", "http://x:2375", "tcp://", ""])
def test_other_addresses_are_refused_naming_the_forms(url: str) -> None:
    with pytest.raises(ConfigError, match="not an engine address: give unix:///PATH"):
        check_url(url)


def test_an_engine_over_tcp_or_ssh_is_not_local() -> None:
    assert not Engine("tcp://127.0.0.1:2375").local()
    assert not Engine("ssh://me@elsewhere").local()


def test_a_unix_socket_served_by_another_program_is_not_the_engine(tmp_path: Path) -> None:
    """A socket proxy or a forwarded socket: its peer is not dockerd, so the pids the
    engine reports are not this host's."""
    path = tmp_path / "proxy.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    try:
        assert Engine(f"unix://{path}").local() is False
    finally:
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()
    assert not Engine(f"unix://{tmp_path}/absent.sock").local()


def _pumped(chunks: list[bytes]) -> tuple[int | None, bytes]:
    reported = _ReportedPid()
    out = io.BytesIO()
    for chunk in chunks:
        out.write(reported.strip(chunk))
    out.write(reported.rest())
    return reported.pid, out.getvalue()


@pytest.mark.parametrize("chunks", [
    [PID_MARK + b"42\nboom\n"],
    [PID_MARK[:3], PID_MARK[3:] + b"4", b"2\n", b"boom\n"],  # cut anywhere
    [PID_MARK + b"42\n", b"boom\n"],
])
def test_the_pid_line_is_taken_off_the_stderr(chunks: list[bytes]) -> None:
    assert _pumped(chunks) == (42, b"boom\n")


@pytest.mark.parametrize("chunks", [
    [b"sh: no shell\n"],  # no wrapper line at all
    [PID_MARK[:4]],  # the output ended inside what looked like its start
    [PID_MARK + b"x1\n"],  # not a pid
])
def test_output_without_a_pid_line_is_kept_whole(chunks: list[bytes]) -> None:
    assert _pumped(chunks) == (None, b"".join(chunks))


def test_a_later_line_like_the_pid_line_is_the_steps_own() -> None:
    assert _pumped([PID_MARK + b"7\n", PID_MARK + b"8\n"]) == (7, PID_MARK + b"8\n")
