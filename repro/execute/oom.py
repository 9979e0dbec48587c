"""Tell a step the kernel killed for lack of memory from one killed otherwise.

Steps run via exec in a long-lived container, so the container's own OOMKilled flag says
nothing about them. The container's memory cgroup counts every OOM kill inside it: a
step that died of SIGKILL (exit 137) while that count rose was killed for memory. One
killed from outside (`kill -9`, the sandbox removed) leaves the count where it was.
"""

from __future__ import annotations

from repro.sandbox.api import Container, ExecResult

SIGKILLED = 137  # 128 + SIGKILL: what a shell or the engine reports for a killed process


class MemoryWatch:
    """The OOM-kill count of the steps' container, read only after a SIGKILLed step."""

    def __init__(self, container: Container):
        self._container = container
        self._seen = 0  # a container's cgroup is new, its count starts at zero

    def killed(self, result: ExecResult) -> bool:
        """Did the kernel kill this step for memory? (Call once per step, in order.)"""
        if result.timed_out or result.exit_code != SIGKILLED:
            return False
        count = self._container.memory_kills()
        if count is None:  # the engine cannot tell: a plain exit 137 then
            return False
        rose, self._seen = count > self._seen, count
        return rose
