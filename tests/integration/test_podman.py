"""Podman's Docker-compatible API as an engine: a `podman system service` started by this
module (rootful, its own storage, run root, event log and socket under a temporary
folder), reached through DOCKER_HOST as a user would reach it. A run there makes its
offline base and leaves nothing; a step's timeout and a sandbox killed from outside are
told apart from the step's own ending, as the container's own process (one-shot) and by
exec; an unknown user or a missing shell is a setup mistake, never a verdict; services
without egress are refused.

The service is module-scoped (`xdist_group` asks for the tests on one worker; a worker
that gets some starts its own, in its own folder). It is stopped, with the exec monitors
it leaves behind for minutes by design (conmon's exit delay), and its storage removed,
whatever the tests did.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import HANG_ON_AN_ENGINE_ELSEWHERE, Project

pytestmark = pytest.mark.xdist_group("podman")

FIRST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
# Podman's `--init` for a one-shot step (Debian's podman only recommends it).
CATATONIT = "/usr/libexec/podman/catatonit"
QUICK = """\
    environment: bb
    steps: [{name: s, run: "cat /etc/app/app.conf; echo $GREETING"}]
    oracle: {any: [{step: s, stdout: "greeting = hello"}]}
    """
MANAGED = "label=io.repro.managed"


@dataclass
class Podman:
    url: str  # unix://.../podman.sock: DOCKER_HOST for repro and for the docker CLI

    @property
    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.url}

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", self.url, *args], capture_output=True,
                              text=True, check=check, timeout=120)

    def managed(self) -> dict[str, list[str]]:
        """What carries repro's label on the Podman side."""
        return {"container": self.docker("ps", "-a", "-q", "--filter", MANAGED).stdout.split(),
                "network": self.docker("network", "ls", "-q", "--filter", MANAGED
                                       ).stdout.split(),
                "volume": self.docker("volume", "ls", "-q", "--filter", MANAGED
                                      ).stdout.split()}


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "a rootful Podman service needs root"
    for tool in ("podman", "fuse-overlayfs", "docker"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/setup installs it)"
    if not os.path.exists(CATATONIT):
        return f"{CATATONIT} is missing: `apt-get install catatonit` (.ci/setup installs it)"
    return None


def _configuration(root: Path) -> dict[str, str]:
    """containers.conf and storage.conf confining the service to `root`; the environment
    that points podman at them."""
    # Podman raises a container's open files and processes to its maximum (1048576),
    # which needs CAP_SYS_RESOURCE; CI jobs in containers often lack it (runc: "error
    # setting rlimit type 7: operation not permitted"). Within the hard limits instead.
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
    (root / "containers.conf").write_text(f"""\
[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{root}/events.log"
tmp_dir = "{root}/tmp"
volume_path = "{root}/volumes"
[network]
network_config_dir = "{root}/networks"
""")
    # fuse-overlayfs: overlay on overlay is refused where the host's / is one (CI runners).
    (root / "storage.conf").write_text(f"""\
[storage]
driver = "overlay"
graphroot = "{root}/storage"
runroot = "{root}/run"
[storage.options.overlay]
mount_program = "{shutil.which('fuse-overlayfs')}"
""")
    return {**os.environ, "CONTAINERS_CONF": str(root / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(root / "storage.conf")}


def _processes_under(root: Path) -> list[int]:
    """Pids whose command line names `root`: the service and its conmon monitors (an
    exec's monitor stays 5 minutes after the exec by design, for its exit code)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if str(root).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _kill_processes_under(root: Path) -> None:
    """Each by pid (its command line names this service's folder), until none is left
    twice in a row: a monitor killed a moment late has started its exit command (`podman
    container cleanup`), which would make the storage again."""
    quiet = 0
    deadline = time.monotonic() + 30
    while quiet < 2 and time.monotonic() < deadline:
        pids = _processes_under(root)
        quiet = 0 if pids else quiet + 1
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def _unmount_under(root: Path) -> None:
    """What the storage mounted inside `root` (its overlay folder on itself, a container's
    layers if one was left), deepest first: `root` itself is no mount point."""
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted((p for p in points if p.startswith(f"{root}/")), key=len,
                        reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


@pytest.fixture(scope="module")
def podman() -> Iterator[Podman]:
    missing = _unavailable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test Podman: {missing}")
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="repro-pm-"))  # short: a socket path is < 108
    service = None
    try:
        env = _configuration(root)
        engine = Podman(f"unix://{root}/podman.sock")
        with open(root / "service.log", "wb") as log:
            service = subprocess.Popen(["podman", "system", "service", "--time=0", engine.url],
                                       env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        deadline = time.monotonic() + 60
        while engine.docker("version", check=False).returncode != 0:
            if service.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("podman system service did not come up: " +
                                   (root / "service.log").read_text()[-2000:])
            time.sleep(0.2)
        yield engine
        left = engine.managed()
        assert not any(left.values()), f"left on Podman: {left}"
    finally:
        if service is not None:
            os.killpg(service.pid, signal.SIGTERM)
            try:
                service.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
                service.wait(timeout=30)
        _kill_processes_under(root)
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def _first_engine_events(run_id: str, since: float) -> list[str]:
    out = subprocess.run(["docker", "-H", FIRST, "events", "--since", f"{since:.0f}",
                          "--until", f"{time.time() + 1:.0f}", "--filter",
                          f"label=io.repro.run={run_id}", "--format", "{{.Action}}"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return out.split()


def test_a_run_on_podman_makes_its_base_there_and_leaves_nothing(
        project: Project, podman: Podman) -> None:
    sid = project.scenario("there", QUICK)
    began = time.time() - 1
    done = project.repro("run", f"scenarios/{sid}", "--json", env=podman.env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    record = project.record(result)
    assert result["reproduced"] is True
    assert record["steps"][0]["stdout"] == "greeting = hello\nretries = 3\ntoken = \nhello\n"
    assert record["facts"]["engine"] == podman.url
    assert record["sandbox"]["one_shot"] is True  # attached, started, waited for: Podman's
    # The offline base was not there: made on Podman from the static busybox (an import).
    assert "creating offline base image repro-base/busybox" in done.stderr
    assert podman.docker("image", "inspect", "repro-base/busybox:latest",
                         check=False).returncode == 0
    assert _first_engine_events(result["run_id"], began) == []  # nothing on Docker
    assert podman.managed() == {"container": [], "network": [], "volume": []}


def test_timeouts_on_podman_kill_the_step_by_exec_and_as_its_own_process(
        project: Project, podman: Podman) -> None:
    """Podman's processes are not this host's to the backend (no dockerd at the socket):
    the step reports its pid through the wrapper and is killed from inside."""
    two = project.scenario("hang", HANG_ON_AN_ENGINE_ELSEWHERE)
    done = project.repro("run", f"scenarios/{two}", "--json", env=podman.env)
    assert done.returncode == 0, done.stderr
    record = project.record(json.loads(done.stdout))
    hang, after = record["steps"]
    assert record["sandbox"]["one_shot"] is False
    assert hang["status"] == "timed_out" and 1.0 <= hang["duration_s"] < 5
    assert hang["stdout"] == "started\n" and hang["stderr"] == "said\n"  # no pid line
    assert after["status"] == "ok" and after["stdout"].strip() == "1"  # the idle sleep only
    one = project.scenario("alone", """\
        environment: bb
        steps: [{name: slow, run: "echo begun; sleep 60", timeout: 1s}]
        oracle: {any: [{step: slow, timed_out: true}]}
        """)
    done = project.repro("run", f"scenarios/{one}", "--json", env=podman.env)
    assert done.returncode == 0, done.stderr
    record = project.record(json.loads(done.stdout))
    (slow,) = record["steps"]
    assert record["sandbox"]["one_shot"] is True
    assert slow["status"] == "timed_out" and slow["duration_s"] < 5
    assert slow["stdout"] == "begun\n"


def test_a_one_shot_sandbox_killed_from_outside_is_no_verdict_on_podman(
        project: Project, podman: Podman) -> None:
    """Told by the engine's `kill` event: Podman sends none for an `until` already past."""
    sid = project.scenario("victim", """\
        environment: bb
        steps: [{name: long, run: "echo begun; sleep 120"}]
        oracle: {any: [{step: long, exit_code: 0}]}
        """)
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}"],
                            cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "NO_COLOR": "1", **podman.env})
    deadline = time.monotonic() + 60
    while not (running := podman.docker("ps", "-q", "--filter", f"label=io.repro.scenario={sid}"
                                        ).stdout.split()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sandbox never started"
        time.sleep(0.1)
    time.sleep(0.5)  # the step runs
    podman.docker("kill", *running)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    assert "was stopped or removed from outside during the run" in err
    assert podman.managed()["container"] == []


def test_an_unknown_user_is_a_setup_mistake_on_podman(project: Project, podman: Podman
                                                      ) -> None:
    """Podman refuses such an exec's start (Docker starts it and it exits 126)."""
    sid = project.scenario("nobody", """\
        environment: bb
        steps: [{name: s, run: "true", user: nosuchuser}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    done = project.repro("run", f"scenarios/{sid}", env=podman.env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"repro: error: scenarios/{sid}/scenario.yaml: steps.s: could not start: unable to "
        "find user nosuchuser: no matching entries in passwd file; check its run, user and "
        "workdir")


def test_services_without_egress_are_refused_on_podman(project: Project, podman: Podman
                                                       ) -> None:
    project.env("web", """\
        image: repro-base/busybox
        services:
          web: {image: repro-base/busybox, command: "httpd -f -p 8080"}
        """)
    sid = project.scenario("web", """\
        environment: web
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, exit_code: 0}]}
        """)
    done = project.repro("run", f"scenarios/{sid}", env=podman.env)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "repro: error: services without egress do not run on Podman: its internal network "
        "leaves the host reachable")
    assert podman.managed() == {"container": [], "network": [], "volume": []}


def test_an_image_without_a_shell_is_a_setup_error_on_podman(
        project: Project, podman: Podman, tmp_path: Path) -> None:
    """As the container's own process, the step's `sh` is started by Podman's init
    (catatonit), which says so in its own words and exits 1."""
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    shutil.copy("/bin/busybox", rootfs / "bb")  # a program, but no /bin/sh
    image = f"repro-test-nosh-{project.tag}:1"
    subprocess.run(f"tar -C {rootfs} -c bb | docker -H {podman.url} import - {image}",
                   shell=True, check=True, capture_output=True)
    try:
        project.env("nosh", f"image: {image}\n")
        sid = project.scenario("nosh", """\
            environment: nosh
            steps: [{name: s, run: "echo hi"}]
            oracle: {any: [{step: s, stdout: hi}]}
            """)
        done = project.repro("run", f"scenarios/{sid}", env=podman.env)
        assert done.returncode == 3, done.stdout + done.stderr
        assert done.stderr.splitlines()[-1].startswith(
            "repro: error: starting the sandbox failed: ERROR (catatonit"), done.stderr
    finally:
        podman.docker("rmi", image, check=False)


def test_doctor_finds_podmans_default_network_and_limits(project: Project, podman: Podman
                                                         ) -> None:
    """Podman lists its default network as `bridge` but finds nothing by that name."""
    done = project.repro("doctor", "--json", env=podman.env)
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["bridge"]["ok"] is True, checks["bridge"]
    assert checks["memory limit"]["ok"] is not False, checks["memory limit"]
    assert podman.managed()["container"] == []
