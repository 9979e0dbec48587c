"""Waiting for a service to be ready, with a stand-in container."""

from __future__ import annotations

import time

import pytest

from repro.config.model import Ready
from repro.errors import SandboxError
from repro.execute import readiness
from repro.sandbox.api import Status

from ..fake_backend import Answer, FakeContainer

# ---- readiness, with a stand-in container -----------------------------------------------------

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:0050 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1
  sl  local_address                         remote_address                        st tx_queue
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 0 0 0
"""


def db(probes=(), log: str = "", status: Status = Status.RUNNING,
       health: str | None = None) -> FakeContainer:
    """A service whose readiness command answers `probes` in turn, then fails (exit 1)."""
    service = FakeContainer("repro-run-db", "db", log=log, status=status, health=health,
                            exit_code=4 if status is Status.EXITED else None,
                            default=Answer(1))
    service.answer("cat /proc/net/tcp", Answer(0, PROC_NET_TCP))
    if probes:
        service.answer("sh -c", *(Answer(code) for code in probes))
    return service


@pytest.mark.parametrize("port, listening", [(8080, True), (5432, True), (80, False),
                                             (1, False)])
def test_a_listening_port_is_read_from_proc_net_tcp(port, listening):
    # 8080 listens on IPv4, 5432 on IPv6; 80 is only an established connection
    assert readiness._listening(db(), port) is listening


def test_waiting_for_readiness():
    assert readiness.wait_ready("db", db(), None) == 0.0
    fast = {"timeout": 5.0, "interval": 0.01}
    assert readiness.wait_ready("db", db([1, 1, 0]), Ready(command="x", **fast)) < 1
    assert readiness.wait_ready("db", db(), Ready(tcp=8080, **fast)) < 1
    assert readiness.wait_ready("db", db(log="boot\nup\n"),
                                Ready(log="^up$", **fast)) < 1
    assert readiness.wait_ready("db", db(health="healthy"),
                                Ready(healthcheck=True, **fast)) < 1


def test_a_service_never_ready_or_stopped_is_named_with_its_log():
    quick = {"timeout": 0.05, "interval": 0.01}
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", db(log="a\n\nFATAL: no config\n"),
                             Ready(tcp=80, **quick))
    assert str(exc.value) == ("service db not ready after 0.05s (waiting for port 80 "
                              "listening); its log ends: a | FATAL: no config")
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", db(log="bad option\n", status=Status.EXITED),
                             Ready(log="^up$", **quick))
    assert str(exc.value) == ("service db stopped (exit 4) before it was ready; its log "
                              "ends: bad option")
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", db(), Ready(healthcheck=True, **quick))
    assert str(exc.value) == ("repro-run-db: `ready: {healthcheck: true}` but its image has "
                              "no HEALTHCHECK; use command, tcp or log instead")


def test_the_ready_timeout_is_not_overshot_by_a_long_interval():
    # A compose healthcheck `interval: 30s` becomes the polling interval: the deadline
    # must still hold (sleep no longer than what is left of it).
    started = time.monotonic()
    with pytest.raises(SandboxError):
        readiness.wait_ready("db", db(), Ready(tcp=81, timeout=0.1, interval=1.5))
    assert time.monotonic() - started < 1.0


def test_a_hanging_readiness_command_is_not_ready_and_is_bounded_by_the_deadline():
    service = db()
    service.answer("sh -c", Answer(None, timed_out=True), Answer(0))
    assert readiness.wait_ready("db", service, Ready(command="x", timeout=5.0,
                                                     interval=0.01)) < 1
    first, second = service.execs
    assert first.argv == ("sh", "-c", "x") and 0.05 <= first.timeout <= 5.0
    assert second.timeout <= first.timeout  # what is left of the deadline


def test_a_readiness_command_the_image_lacks_fails_at_once():
    service = db()
    service.answer("sh -c", Answer(127, "", "sh: pg_isready: not found\n"))
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", service, Ready(command="pg_isready", timeout=5.0))
    assert str(exc.value) == ("service db: its readiness command pg_isready cannot run in "
                              "its image (exit 127: sh: pg_isready: not found)")


def test_a_probe_failing_because_the_service_stopped_says_it_stopped():
    def stop(container: FakeContainer) -> None:
        container.status = Status.EXITED
        raise SandboxError("starting the readiness check failed: container is not running")

    service = db(log="FATAL: bad config\n")
    service.answer("sh -c", Answer(effect=stop))
    service.exit_code = 1
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", service, Ready(command="x", timeout=5.0))
    assert str(exc.value) == ("service db stopped (exit 1) before it was ready; its log "
                              "ends: FATAL: bad config")
