"""One Docker container of a sandbox, as the port's Container: copy, exec, state, logs."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from repro.errors import SandboxError
from repro.sandbox.api import (
    STOP_GRACE,
    ClockReach,
    ContainerState,
    ExecRequest,
    ExecResult,
    Status,
)
from repro.sandbox.docker import hijack
from repro.sandbox.docker.engine import Engine, translated

# Run as root in the container when a process times out: every process but PID 1 and this.
KILL_ALL = ["sh", "-c", "kill -KILL -1 2>/dev/null; exit 0"]
# The container's memory cgroup counts its OOM kills: memory.events on cgroup v2,
# memory.oom_control on v1 (both `oom_kill N`); read from inside, where it is the container's.
OOM_COUNTER = ["sh", "-c", "cat /sys/fs/cgroup/memory.events 2>/dev/null || "
               "cat /sys/fs/cgroup/memory/memory.oom_control"]
_OOM_KILLS = re.compile(rb"^oom_kill (\d+)$", re.M)
# On an engine whose processes this host cannot see (see Engine.local), a step that may be
# killed runs under this wrapper: it says its pid on stderr (a line repro takes off again)
# and becomes the step with `exec`, so the step keeps the wrapper's pid, which is its
# process group too (each exec leads a group of its own). A timeout then signals that
# group from inside the container: no host pid, no /proc of the engine's host, no file.
PID_MARK = b"\x1erepro-pid "
SHELL = "/bin/sh"
# A program that is not there is said as the engine says it when it cannot start an exec
# (execute.timeline's `_UNSTARTED`): a setup mistake, as on an engine of this host, rather
# than the shell's `not found` exit 127, which would read as the step's own failure.
REPORT_PID = [SHELL, "-c", 'printf "\036repro-pid %s\n" $$ >&2; '
              'command -v "$1" >/dev/null 2>&1 || { printf "OCI runtime exec failed: exec '
              'failed: unable to start container process: exec: \\"%s\\": executable file '
              'not found in \\$PATH: unknown\n" "$1" >&2; exit 127; }; exec "$@"', "sh"]
KILL_GRACE_S = 1.0  # after a timeout's kill, how long the last output may take to arrive
MAX_OUTPUT = int(os.environ.get("REPRO_MAX_OUTPUT", 512 * 1024 * 1024))  # per stream

_STATUS = {"running": Status.RUNNING, "restarting": Status.RUNNING,
           "created": Status.CREATED, "removing": Status.REMOVED,
           "paused": Status.PAUSED}  # else: EXITED


class DockerContainer:
    """A created container; every method raises SandboxError on engine failure."""

    def __init__(self, engine: Engine, model: Any, address: str, what: str,
                 isolate: Callable[[Any], None] | None = None,
                 before_reconnect: Callable[[Any], None] | None = None,
                 clock: Any = None, probe_in_log: bool = False,
                 one_shot: ExecRequest | None = None):
        self.engine = engine
        self.model = model  # the SDK's Container
        self._address = address
        self.what = what  # "the sandbox" | "service NAME": for error messages
        # Cuts its routes out (isolation.py) each time the engine gives it a network
        # namespace or a network: start, restart, reconnect.
        self._isolate = isolate
        self._before_reconnect = before_reconnect
        self.clock = clock  # the run's clock (docker.clock.RunClock) or None
        self.probe_in_log = probe_in_log  # its PID 1 printed `date +%s` first
        self._has_shell: bool | None = None  # SHELL in its image (asked when needed)
        # Created with this process as its own (SandboxSpec.one_shot): the exec of it starts
        # the container (own_process.py); `start` has nothing to do before that.
        self.one_shot = one_shot
        self.runs_own = one_shot is not None

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def address(self) -> str:
        return self._address

    def start(self) -> None:
        if self.runs_own:
            return  # it starts with its process, in exec
        with translated(f"starting {self.what}"):
            self.model.start()
        self.isolate()

    def isolate(self) -> None:
        if self._isolate is not None:
            self._isolate(self.model)

    def prepare_reconnect(self) -> None:
        if self._before_reconnect is not None:
            self._before_reconnect(self.model)

    def copy_in(self, tar: IO[bytes] | bytes) -> None:
        with translated(f"copying data into {self.what}"):
            if not self.model.put_archive("/", tar):
                raise SandboxError(f"the engine refused the data copy into {self.what}")

    def copy_out(self, path: str) -> Iterator[bytes] | None:
        """The tar stream of `path`; closing the iterator closes the connection, so a
        reader that stops early (an interrupt) does not leave the engine blocked on a
        full socket (it then refuses to remove the container for minutes)."""
        import docker

        api = self.model.client.api
        try:
            # The SDK's get_archive hands out a generator that keeps its response open
            # until garbage-collected: ask for the response itself (SDK internals).
            response = api._get(api._url("/containers/{0}/archive", self.model.id),
                                params={"path": path}, stream=True)
            api._raise_for_status(response)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise SandboxError(f"capturing {path} failed: {exc.explanation}") from None
        return _streamed(response)

    def state(self) -> ContainerState:
        import docker

        with translated(f"inspecting {self.what}"):
            try:
                found = self.engine.client().api.inspect_container(self.model.id)["State"]
            except docker.errors.NotFound:
                return ContainerState(Status.REMOVED)
        health = found.get("Health")
        return ContainerState(_STATUS.get(found.get("Status", ""), Status.EXITED),
                              found.get("ExitCode"),
                              None if health is None else health.get("Status"))

    def logs(self, tail: int | None = None) -> str:
        with translated(f"reading the log of {self.what}"):
            raw = self.model.logs(stdout=True, stderr=True,
                                  tail="all" if tail is None else tail)
        return raw.decode("utf-8", "replace")

    def memory_kills(self) -> int | None:
        """From the container's cgroup; None without a shell in the image or a cgroup
        counter (an old kernel), or once the container has stopped."""
        import docker

        if self.runs_own:
            from repro.sandbox.docker import own_process

            return own_process.memory_kills(self)
        try:
            code, out = self.model.exec_run(OOM_COUNTER, user="0")
        except docker.errors.DockerException:
            return None
        found = _OOM_KILLS.search(out or b"")
        return int(found.group(1)) if code == 0 and found else None

    def stop(self) -> None:
        with translated(f"stopping {self.what}"):
            self.model.stop()

    def kill(self, signal: str) -> None:
        with translated(f"sending {signal} to {self.what}"):
            self.model.kill(signal=signal)

    def restart(self) -> None:
        with translated(f"restarting {self.what}"):
            self.model.restart()
        self.isolate()  # a restart brings a fresh network namespace, default route and all

    def pause(self) -> None:
        with translated(f"pausing {self.what}"):
            self.model.pause()

    def unpause(self) -> None:
        with translated(f"unpausing {self.what}"):
            self.model.unpause()

    def exec(self, request: ExecRequest, stdout: IO[bytes], stderr: IO[bytes]) -> ExecResult:
        """Run a process; the container's env, workdir and user apply unless it overrides.
        On timeout it and everything it started are killed."""
        if self.runs_own:
            from repro.sandbox.docker import own_process

            if self.one_shot is None or not own_process.same(self.one_shot, request):
                raise SandboxError(f"{request.label or 'a process'}: {self.what} runs one "
                                   "process of its own and takes no other")
            self.one_shot = None  # the one process: it ran
            return own_process.run(self, request, stdout, stderr)
        import docker

        api = self.engine.client().api
        label = request.label or "a process"
        # Where the step may have to be killed but its pid cannot be seen from here.
        pid: _ReportedPid | None = None
        if (request.timeout is not None or request.stop is not None) and \
                not self.engine.local() and self._shell():
            pid = _ReportedPid()
        argv = [*REPORT_PID, *request.argv] if pid is not None else list(request.argv)
        with translated(f"starting {label}"):
            exec_id = api.exec_create(
                self.model.id, argv, stdout=True, stderr=True,
                stdin=request.stdin is not None, environment=self._environment(request),
                workdir=request.workdir, user=request.user or "")["Id"]
            try:
                attached = hijack.start(api, exec_id)
            except docker.errors.APIError as exc:
                unstarted = _unknown_user(exc)
                if unstarted is None:
                    raise
                stderr.write(unstarted)
                now = time.time()
                return ExecResult(126, False, now, now)
        sock = attached.sock
        raw = getattr(sock, "_sock", sock)
        raw.settimeout(None)  # a step may be silent for longer than the client timeout
        started = time.time()
        reader = threading.Thread(target=_pump, args=(attached.output, stdout, stderr, pid),
                                  daemon=True)
        reader.start()
        if request.stdin is not None:
            # Fed from its own thread: a process that never reads its input must still
            # meet its timeout.
            threading.Thread(target=_feed, args=(raw, request.stdin), daemon=True).start()
        stopped: list[bool] = []
        if request.stop is not None:
            # Its own thread watches for the stop: this one waits for the output to end
            # without polling (an instance of `true` must not pay for the watch).
            threading.Thread(target=self._stop_when, args=(request.stop, reader, exec_id,
                                                           stopped, request.user, pid),
                             daemon=True).start()
        try:
            reader.join(request.timeout)
            timed_out = reader.is_alive() and not stopped
            if reader.is_alive():
                self._kill(exec_id, "KILL", request.user, pid)
                # Output still flowing after the kill comes from a process that left the
                # step's group (a `setsid` daemon holds the stream open): stop reading.
                reader.join(KILL_GRACE_S)
        finally:
            # Always: a socket left to the garbage collector is a ResourceWarning in the
            # caller's process (a pytest run with warnings as errors fails on it).
            _close(raw)
            if sock is not raw:  # the file over it holds a reference: close that too
                with contextlib.suppress(OSError):
                    sock.close()
            attached.close()
        ended = time.time()
        with translated(f"reading the exit code of {label}"):
            exit_code = api.exec_inspect(exec_id).get("ExitCode")
        return ExecResult(exit_code, timed_out, started, ended, bool(stopped))

    def _environment(self, request: ExecRequest) -> dict[str, str] | None:
        """The request's variables, after the clock's setting for a process starting now."""
        clocked = self.clock.exec_environment() if self.clock is not None else {}
        return {**clocked, **request.env} or None

    def started_at(self) -> float:
        """When its PID 1 started (epoch seconds), as the engine recorded it."""
        from datetime import datetime

        with translated(f"inspecting {self.what}"):
            text = self.engine.client().api.inspect_container(
                self.model.id)["State"]["StartedAt"]
        whole, _, rest = text.rstrip("Z").partition(".")
        fraction = float(f"0.{rest[:9] or 0}")
        return datetime.fromisoformat(whole + "+00:00").timestamp() + fraction

    def clock_reach(self) -> ClockReach | None:
        """What `date +%s` reads here, against the clock (it stands at `at` until the
        clock starts): from PID 1's first output line in the steps' container, from an
        exec in a service."""
        if self.clock is None:
            return None
        from repro.sandbox.docker.clock import judge

        now = time.time()
        if self.probe_in_log:
            deadline = now + 5
            output = self.logs(tail=5)
            while not output.strip() and time.time() < deadline:
                time.sleep(0.01)
                output = self.logs(tail=5)
        else:
            import io

            out = io.BytesIO()
            self.exec(ExecRequest(("date", "+%s"), timeout=10, label="the clock check"),
                      out, out)
            output = out.getvalue().decode("utf-8", "replace")
        return judge(output, self.clock, now)

    def _stop_when(self, stop: threading.Event, reader: threading.Thread, exec_id: str,
                   stopped: list[bool], user: str | None, pid: _ReportedPid | None) -> None:
        """While the process runs: once `stop` is set, TERM it (and all it started), KILL
        it after STOP_GRACE."""
        while reader.is_alive():
            if stop.wait(0.1):
                if not reader.is_alive():
                    return
                stopped.append(True)
                try:
                    self._kill(exec_id, "TERM", user, pid)
                    reader.join(STOP_GRACE)
                    if reader.is_alive():
                        self._kill(exec_id, "KILL", user, pid)
                except SandboxError:
                    pass  # the sandbox is going away: that ends the process too
                return

    def _shell(self) -> bool:
        """Does its image have SHELL (for the pid-reporting wrapper)? Asked once."""
        if self._has_shell is None:
            import docker

            try:
                stream, _ = self.engine.client().api.get_archive(self.model.id, SHELL)
                for _ in stream:  # a link, usually: a few hundred bytes
                    pass
                self._has_shell = True
            except docker.errors.NotFound:
                self._has_shell = False
            except docker.errors.DockerException:
                return False
        return self._has_shell

    def _kill(self, exec_id: str, signal: str = "KILL", user: str | None = None,
              reported: _ReportedPid | None = None) -> None:
        """Signal the process and everything it started (timed out: KILL; stopped: TERM
        first): each exec is its own process group in the container.

        On an engine of this host (Engine.local), from here when repro has the right to:
        an exec into the container can wait seconds behind the engine while a daemon the
        step left holds the step's output open. Otherwise by an exec as the step's own
        user (under no-new-privileges a root exec may hold no capability to signal another
        user's processes), then as root, naming the group by its pid in the container: read
        from /proc here for a local engine, reported by the wrapper for any other. Without
        that pid (an image with no shell), every process but PID 1 gets KILL."""
        inner: int | None = None
        with translated("stopping a step"):
            if reported is not None:
                inner = reported.pid
            elif self.engine.local():
                host_pid = self.engine.client().api.exec_inspect(exec_id).get("Pid")
                if _in_container(host_pid, self.model.id):
                    if _signal_group_from_host(host_pid, signal):
                        return
                    inner = _pid_inside(host_pid)
            if inner is None and signal != "KILL":
                return  # no pid to send TERM to: the KILL that follows covers it
            if inner is None:  # waited for: the next step must not meet this kill
                self.model.exec_run(KILL_ALL, user=user or "")
                self.model.exec_run(KILL_ALL, user="0")
                return
            command = ["sh", "-c", f"kill -{signal} -{inner} 2>/dev/null || "
                       f"kill -{signal} {inner}; exit 0"]
            # Started, not waited for (it names one group, which no later step can be):
            # once the step is killed, the engine reports the end of any exec of this
            # container only after it gives up on the killed step's output, seconds later
            # when a daemon the step left holds that open.
            self.model.exec_run(command, user=user or "", detach=True)
            self.model.exec_run(command, user="0", detach=True)


def _unknown_user(exc: Any) -> bytes | None:
    """Podman looks an exec's user up before it starts it, and answers the start with
    this error; Docker starts the exec, which exits 126 with the same line on its output.
    Said the Docker way, so the step could not start (a setup mistake) on either."""
    text = exc.explanation or ""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return (text + "\n").encode() if text.startswith("unable to find user") else None


def _in_container(host_pid: int | None, container_id: str) -> bool:
    """Is this pid of ours the container's process (its cgroup names the container)? Not
    a pid reused since, nor one of another pid namespace's numbering."""
    if not host_pid:
        return False
    try:
        with open(f"/proc/{host_pid}/cgroup") as cgroup:
            return container_id in cgroup.read()
    except OSError:
        return False


def _signal_group_from_host(host_pid: int | None, name: str) -> bool:
    """Signal the step's process group directly (repro runs on the engine's host)."""
    if not host_pid:
        return False
    try:
        group = os.getpgid(host_pid)
        if group == os.getpgid(0):  # never our own group (a pid reused by one of ours)
            return False
        os.killpg(group, getattr(signal, f"SIG{name}"))
    except (ProcessLookupError, PermissionError, OSError):
        return False
    return True


def _pid_inside(host_pid: int | None) -> int | None:
    """The container's own number for a process the engine reports by host pid, read from
    /proc when repro runs on the engine's host."""
    if not host_pid:
        return None
    try:
        with open(f"/proc/{host_pid}/status") as proc:
            status = proc.read()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("NSpid:") and len(line.split()) > 2:
            return int(line.split()[-1])
    return None


class _ReportedPid:
    """The wrapper's pid line, taken off the start of the process's stderr."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._pending = b""
        self._done = False

    def strip(self, data: bytes) -> bytes:
        """What of `data` is the process's own stderr (held back while it may still be
        the start of the pid line)."""
        if self._done:
            return data
        buf = self._pending + data
        self._pending = b""
        if not buf.startswith(PID_MARK):
            if PID_MARK.startswith(buf):
                self._pending = buf  # the line's start only: wait for more
                return b""
            self._done = True
            return buf
        line, newline, rest = buf.partition(b"\n")
        digits = line[len(PID_MARK):]
        if not newline:
            if digits.isdigit() and len(digits) < 12:
                self._pending = buf
                return b""
            self._done = True
            return buf
        self._done = True
        if not digits.isdigit():
            return buf
        self.pid = int(digits)
        return rest

    def rest(self) -> bytes:
        """At the end of the output: what was held back, as the process's own."""
        held, self._pending, self._done = self._pending, b"", True
        return held


def _streamed(response: Any, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    try:
        yield from response.iter_content(chunk, False)  # as the SDK's get_archive reads it
    finally:
        response.close()


def _pump(output: IO[bytes], stdout: IO[bytes], stderr: IO[bytes],
          reported: _ReportedPid | None = None) -> None:
    """Copy the process's output to its files, each cut at MAX_OUTPUT (a step printing in
    a loop must not fill the disk before its timeout); the wrapper's pid line, if any,
    taken off its stderr."""
    written = {1: 0, 2: 0}
    try:
        for stream, data in hijack.frames(output):
            key = 2 if stream == 2 else 1
            if key == 2 and reported is not None:
                data = reported.strip(data)
                if not data:
                    continue
            target = stderr if key == 2 else stdout
            room = MAX_OUTPUT - written[key]
            if room > 0:
                target.write(data[:room])
                if len(data) >= room:
                    target.write(f"\n[repro: output cut at {MAX_OUTPUT} bytes]\n".encode())
            written[key] += len(data)
    except (OSError, ValueError):
        pass  # the socket was closed under us after a timeout
    if reported is not None:
        stderr.write(reported.rest())


def _feed(raw: socket.socket, data: bytes) -> None:
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)  # end of input for the process
    except OSError:
        pass  # the process exited without reading all of its input


def _close(raw: socket.socket) -> None:
    try:
        raw.shutdown(socket.SHUT_RDWR)
        raw.close()
    except OSError:
        pass
