"""An exec's attached stream, read without losing its first bytes.

The SDK's `exec_start(socket=True)` hands back the socket under the HTTP response. The
response's headers were read through a buffered file, and a process that prints at once
(`cat FILE`) may have its output arrive in the same read as the headers: those bytes sit
in that buffer, and reading the bare socket skips them. Under load this lost a step's whole
output (seen 1 time in 400 with four concurrent execs on a busy 2-core host). So the
stream is read here through that same buffered file, which holds them.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

HEADER = struct.Struct(">BxxxL")  # the engine's multiplexing: stream, 3 pad bytes, length
PIECE = 64 * 1024  # a long frame is handed on in pieces of this size


@dataclass
class Attached:
    """The running exec's connection: `sock` to write its input and to shut it down (which
    ends a blocked read), `output` to read its multiplexed output from."""

    sock: Any
    output: IO[bytes]
    response: Any  # held: the connection lives as long as the response does

    def close(self) -> None:
        """After the socket: what is left of the response (its file may be closed already)."""
        with contextlib.suppress(OSError, ValueError):
            self.response.close()


def start(api: Any, exec_id: str) -> Attached:
    """Start the exec attached, as the SDK's exec_start(socket=True) does, keeping the
    response's buffered file. Uses the SDK's own request helpers (no public API gives
    the buffered file)."""
    response = api._post_json(api._url("/exec/{0}/start", exec_id),
                              headers={"Connection": "Upgrade", "Upgrade": "tcp"},
                              data={"Tty": False, "Detach": False}, stream=True)
    sock = api._get_raw_response_socket(response)
    return Attached(sock, response.raw._fp.fp, response)


def attach(api: Any, container_id: str, stdin: bool) -> Attached:
    """Attach to a created container's output (and input), before it starts: a stream
    like an exec's, read through the response's buffered file for the same reason."""
    response = api._post(api._url("/containers/{0}/attach", container_id),
                         headers={"Connection": "Upgrade", "Upgrade": "tcp"},
                         params={"stdout": 1, "stderr": 1, "stream": 1,
                                 "stdin": 1 if stdin else 0}, stream=True)
    sock = api._get_raw_response_socket(response)
    return Attached(sock, response.raw._fp.fp, response)


def frames(output: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, bytes) as the engine sent them, 1 for stdout and 2 for stderr; ends at the
    end of the stream (also when the socket is shut down under it)."""
    while True:
        header = output.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        stream, left = HEADER.unpack(header)
        while left:
            data = output.read(min(left, PIECE))
            if not data:
                return
            left -= len(data)
            yield stream, data
