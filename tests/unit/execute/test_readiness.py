"""Waiting for a service to be ready, with a stand-in container."""

from __future__ import annotations

import time

import pytest

from repro.config.model import Ready
from repro.errors import SandboxError
from repro.execute import readiness

# ---- readiness, with a stand-in container -----------------------------------------------------

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:0050 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1
  sl  local_address                         remote_address                        st tx_queue
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 0 0 0
"""


class FakeContainer:
    name = "repro-run-db"

    def __init__(self, probes=(), log: str = "", status: str = "running", health=None):
        self.probes = list(probes)
        self.log, self.status, self.health = log, status, health
        self.attrs: dict = {}

    def exec_run(self, argv, user=""):
        if argv[:1] == ["cat"]:
            return 0, PROC_NET_TCP.encode()
        return (self.probes.pop(0) if self.probes else 1), b""

    def logs(self, stdout=True, stderr=True, tail=None):
        return self.log.encode()

    def reload(self):
        state = {"Status": self.status, "ExitCode": 4 if self.status == "exited" else 0}
        if self.health is not None:
            state["Health"] = {"Status": self.health}
        self.attrs = {"State": state}


@pytest.mark.parametrize("port, listening", [(8080, True), (5432, True), (80, False),
                                             (1, False)])
def test_a_listening_port_is_read_from_proc_net_tcp(port, listening):
    # 8080 listens on IPv4, 5432 on IPv6; 80 is only an established connection
    assert readiness._listening(FakeContainer(), port) is listening


def test_waiting_for_readiness():
    assert readiness.wait_ready("db", FakeContainer(), None) == 0.0
    fast = {"timeout": 5.0, "interval": 0.01}
    assert readiness.wait_ready("db", FakeContainer([1, 1, 0]), Ready(command="x", **fast)) < 1
    assert readiness.wait_ready("db", FakeContainer(), Ready(tcp=8080, **fast)) < 1
    assert readiness.wait_ready("db", FakeContainer(log="boot\nup\n"),
                                Ready(log="^up$", **fast)) < 1
    assert readiness.wait_ready("db", FakeContainer(health="healthy"),
                                Ready(healthcheck=True, **fast)) < 1


def test_a_service_never_ready_or_stopped_is_named_with_its_log():
    quick = {"timeout": 0.05, "interval": 0.01}
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", FakeContainer(log="a\n\nFATAL: no config\n"),
                             Ready(tcp=80, **quick))
    assert str(exc.value) == ("service db not ready after 0.05s (waiting for port 80 "
                              "listening); its log ends: a | FATAL: no config")
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", FakeContainer(log="bad option\n", status="exited"),
                             Ready(log="^up$", **quick))
    assert str(exc.value) == ("service db stopped (exit 4) before it was ready; its log "
                              "ends: bad option")
    with pytest.raises(SandboxError) as exc:
        readiness.wait_ready("db", FakeContainer(), Ready(healthcheck=True, **quick))
    assert str(exc.value) == ("repro-run-db: `ready: {healthcheck: true}` but its image has "
                              "no HEALTHCHECK; use command, tcp or log instead")


def test_the_ready_timeout_is_not_overshot_by_a_long_interval():
    # A compose healthcheck `interval: 30s` becomes the polling interval: the deadline
    # must still hold (sleep no longer than what is left of it).
    started = time.monotonic()
    with pytest.raises(SandboxError):
        readiness.wait_ready("db", FakeContainer(), Ready(tcp=81, timeout=0.1, interval=1.5))
    assert time.monotonic() - started < 1.0
