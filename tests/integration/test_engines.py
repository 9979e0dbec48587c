"""More engines: a second, real Docker engine started by this module (its own dockerd, data
root and bridge), reached over tcp with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) as a
remote engine would be. Runs go to it through
DOCKER_HOST, a replay spreads scenarios over both engines, a step timeout there kills the
step from inside its container, and an image one engine lacks is copied from the other.

The tests share one engine (`xdist_group`: they run on one worker, the engine starts
once). Never `--bridge none`: that deletes the first engine's docker0; the engine gets a
bridge of its own, deleted afterwards with everything else, whatever the tests did.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import HANG_ON_AN_ENGINE_ELSEWHERE, Project

pytestmark = pytest.mark.xdist_group("second-engine")

FIRST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
QUICK = """\
    environment: bb
    steps: [{name: s, run: "cat /etc/app/app.conf"}]
    oracle: {any: [{step: s, stdout: "greeting = hello"}]}
    """


@dataclass
class Engine:
    socket: str  # unix://...: for the test's own docker commands
    tcp: str  # tcp://127.0.0.1:PORT: how repro reaches it, as it would a remote engine
    certs: Path  # the client's ca.pem, cert.pem, key.pem

    @property
    def tls(self) -> dict[str, str]:
        """What a user of the Docker CLI sets to reach it (repro reads the same)."""
        return {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(self.certs)}

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", self.socket, *args], capture_output=True,
                              text=True, check=check, timeout=120)

    def names(self, kind: str) -> list[str]:
        listing = {"container": ["ps", "-a", "--format", "{{.Names}}"],
                   "network": ["network", "ls", "--format", "{{.Name}}",
                               "--filter", "type=custom"],
                   "volume": ["volume", "ls", "--format", "{{.Name}}"]}[kind]
        return self.docker(*listing).stdout.split()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_subnet() -> str:
    """A /24 no interface of this host uses (other test sessions may run an engine too)."""
    taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    for third in random.sample(range(200, 255), 55):
        if f"172.31.{third}." not in taken:
            return f"172.31.{third}.1/24"
    raise RuntimeError("no free 172.31.x.0/24 for the second engine's bridge")


def _certificates(folder: Path) -> None:
    """A throw-away CA, the engine's certificate for 127.0.0.1 and a client's, as in
    Docker's "protect the daemon socket" guide (file names as DOCKER_CERT_PATH wants)."""
    folder.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=repro-test-ca")
    for name, cn, usage in (("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\n"
                             "extendedKeyUsage=serverAuth"),
                            ("client", "client", "extendedKeyUsage=clientAuth")):
        (folder / f"{name}.ext").write_text(usage + "\n")
        openssl("req", *key, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
                "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", f"{name}-cert.pem", "-days", "1",
                "-extfile", f"{name}.ext")
    (folder / "client-cert.pem").rename(folder / "cert.pem")
    (folder / "client-key.pem").rename(folder / "key.pem")


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "starting a second dockerd needs root"
    for tool in ("dockerd", "fuse-overlayfs", "ip", "openssl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/setup installs it)"
    return None


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    missing = _unavailable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test a second engine: {missing}")
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="repro-e2-"))  # short: a socket path is < 108
    bridge = f"repro-e2-{root.name[-4:]}".replace("_", "x")[:15]
    sock, port = f"unix://{root}/docker.sock", _free_port()
    (root / "daemon.json").write_text("{}")
    certs = root / "certs"
    process = None
    try:
        _certificates(certs)
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", _free_subnet(), "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        with open(root / "dockerd.log", "wb") as log:
            process = subprocess.Popen(
                ["dockerd", "--config-file", str(root / "daemon.json"),
                 "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
                 "--pidfile", str(root / "dockerd.pid"), "-H", sock,
                 "-H", f"tcp://127.0.0.1:{port}", "--tlsverify",
                 "--tlscacert", str(certs / "ca.pem"), "--tlscert", str(certs / "server-cert.pem"),
                 "--tlskey", str(certs / "server-key.pem"), "--storage-driver", "fuse-overlayfs",
                 "--bridge", bridge, "--iptables=false"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        second = Engine(sock, f"tcp://127.0.0.1:{port}", certs)
        deadline = time.monotonic() + 60
        while second.docker("info", check=False).returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the second dockerd did not come up: " +
                                   (root / "dockerd.log").read_text()[-2000:])
            time.sleep(0.2)
        # The offline base is not there: it goes over as a user would take it.
        saved = subprocess.run(["docker", "save", "repro-base/busybox"], capture_output=True,
                               check=True).stdout
        subprocess.run(["docker", "-H", sock, "load"], input=saved, capture_output=True,
                       check=True)
        yield second
        left = {kind: second.names(kind) for kind in ("container", "network", "volume")}
        assert not any(left.values()), f"left on the second engine: {left}"
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)  # dockerd and the containerd it started
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
        subprocess.run(["umount", "-R", "-l", str(root)], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _events(host: str, run_id: str, since: float) -> list[str]:
    """What the engine at `host` did for a run, from its own event log."""
    out = subprocess.run(["docker", "-H", host, "events", "--since", f"{since:.0f}",
                          "--until", f"{time.time() + 1:.0f}", "--filter",
                          f"label=io.repro.run={run_id}", "--format", "{{.Action}}"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return out.split()


def test_docker_host_selects_the_engine(project: Project, engine: Engine) -> None:
    sid = project.scenario("there", QUICK)
    began = time.time() - 1
    done = project.repro("run", f"scenarios/{sid}", "--json",
                         env={"DOCKER_HOST": engine.tcp, **engine.tls})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["reproduced"] is True
    assert project.record(result)["facts"]["engine"] == engine.tcp
    run_id = result["run_id"]
    # It ran on the second engine (its container made and removed there), not the first.
    assert {"create", "destroy"} <= set(_events(engine.socket, run_id, began))
    assert _events(FIRST, run_id, began) == []
    assert engine.names("container") == []
    # Without the TLS settings the engine refuses the client: one line, exit 3.
    done = project.repro("run", f"scenarios/{sid}", env={"DOCKER_HOST": engine.tcp})
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert f"cannot reach the Docker engine at {engine.tcp}" in done.stderr


def test_replay_spreads_scenarios_over_two_engines(project: Project, engine: Engine) -> None:
    ids = [project.scenario(f"spread{n}", QUICK) for n in range(4)]
    done = project.repro("replay", "--jobs", "2", "--json", "--engine", FIRST,
                         "--engine", engine.tcp, env=engine.tls)
    assert done.returncode == 0, done.stderr
    cases = json.loads(done.stdout)
    assert sorted(c["scenario"] for c in cases) == sorted(ids)
    assert all(c["as_expected"] for c in cases)
    engines = [project.record(c)["facts"]["engine"] for c in cases]
    assert sorted(engines) == sorted([FIRST, engine.tcp] * 2)  # run i on engine i % 2
    assert "on 2 engines" in done.stderr


def test_a_timeout_on_a_remote_engine_kills_the_step_from_inside(
        project: Project, engine: Engine) -> None:
    """Over tcp this host's /proc says nothing of the engine's processes: the step reports
    its pid through the wrapper, and the kill comes from inside its container."""
    sid = project.scenario("hang", HANG_ON_AN_ENGINE_ELSEWHERE)
    daemon = project.scenario("daemon", """\
        environment: bb
        steps:
          - {name: hang, run: "setsid sh -c 'while :; do echo tick; sleep 0.2; done' & sleep 60",
             timeout: 1s}
        oracle: {any: [{step: hang, timed_out: true}]}
        """)
    host = {"DOCKER_HOST": engine.tcp, **engine.tls}
    done = project.repro("run", f"scenarios/{sid}", "--json", env=host)
    record = project.record(json.loads(done.stdout))
    hang, after = record["steps"]
    assert done.returncode == 0, done.stderr
    assert hang["status"] == "timed_out" and 1.0 <= hang["duration_s"] < 5
    # The wrapper's pid line is not the step's output; the step's own lines are whole.
    assert hang["stdout"] == "started\n" and hang["stderr"] == "said\n"
    # Only the sandbox's own idle `sleep 3600` is left: the step's two sleeps are gone.
    assert after["status"] == "ok" and after["stdout"].strip() == "1"
    # A daemon the step left holds its output open: the timeout is met all the same.
    done = project.repro("run", f"scenarios/{daemon}", "--json", env=host)
    step = project.record(json.loads(done.stdout))["steps"][0]
    assert done.returncode == 0 and step["status"] == "timed_out"
    assert step["duration_s"] < 3.5, step["duration_s"]


def test_a_program_missing_on_a_remote_engine_could_not_start_as_on_this_host(
        project: Project, engine: Engine) -> None:
    """The pid wrapper stands between the engine and the program there: a program that is
    not in the image must still be a setup mistake (exit 2), not the step's exit 127."""
    sid = project.scenario("noprog", """\
        environment: bb
        steps:
          - {name: s, run: [no-such-program, --flag]}
          - {name: t, run: "true"}
        oracle: {any: [{step: s, failed: true}]}
        """)
    said = {}
    for where, env in (("here", {}), ("there", {"DOCKER_HOST": engine.tcp, **engine.tls})):
        done = project.repro("run", f"scenarios/{sid}", env=env)
        assert done.returncode == 2, done.stderr
        said[where] = [line for line in done.stderr.splitlines() if "error:" in line]
    assert said["there"] == said["here"] == [
        f"repro: error: scenarios/{sid}/scenario.yaml: steps.s: could not start: unable to "
        'start container process: exec: "no-such-program": executable file not found in '
        "$PATH: unknown; check its run, user and workdir"]
    assert engine.names("container") == []


def test_an_image_missing_on_one_engine_is_copied_from_the_other(
        project: Project, engine: Engine) -> None:
    image = f"repro-test-copy-{project.tag}:1"  # on the first engine only
    subprocess.run(["docker", "-H", FIRST, "tag", "repro-base/busybox", image], check=True)
    try:
        project.env("only-here", f"image: {image}\n")
        project.scenario("copied", """\
            environment: only-here
            steps: [{name: s, run: "echo here"}]
            oracle: {any: [{step: s, stdout: here}]}
            """)
        # Two runs of one scenario: run 0 on the first engine, run 1 on the second.
        done = project.repro("replay", "--repeat", "2", "--jobs", "1", "--json",
                             "--engine", FIRST, "--engine", engine.tcp, env=engine.tls)
        assert done.returncode == 0, done.stderr
        assert f"image {image} is not on {engine.tcp}: copying it from {FIRST}" in done.stderr
        assert json.loads(done.stdout)[0]["as_expected"] is True
        assert engine.docker("image", "inspect", image, check=False).returncode == 0
    finally:
        subprocess.run(["docker", "-H", FIRST, "rmi", image], capture_output=True)
        engine.docker("rmi", image, check=False)


def test_a_bad_or_unreachable_engine_is_one_line(project: Project) -> None:
    project.scenario("nowhere", QUICK)
    done = project.repro("replay", "--engine", "tcp://127.0.0.1:1")
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1].startswith(
        "repro: error: cannot reach the Docker engine at tcp://127.0.0.1:1 (connection "
        "refused)")
    done = project.repro("replay", "--engine", "localhost:2375")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "repro: error: --engine 'localhost:2375': not an engine address: give "
        "unix:///PATH, tcp://HOST:PORT (TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH) or "
        "ssh://USER@HOST, as for `docker -H`"]


def test_the_clock_reaches_a_remote_engine_and_leaves_nothing_there(
        project: Project, engine: Engine) -> None:
    """A remote engine cannot mount this host's copy of libfaketime: it is copied into
    each container before it starts, and nothing of it stays on the engine."""
    saved = subprocess.run(["docker", "save", "repro-base/tools:bookworm"],
                           capture_output=True, check=True).stdout
    subprocess.run(["docker", "-H", engine.socket, "load"], input=saved, capture_output=True,
                   check=True)
    project.env("glibc", "image: repro-base/tools:bookworm\n")  # Debian: glibc and date
    sid = project.scenario("clocked", """\
        environment: glibc
        clock: {at: "2024-03-31T00:29:50Z", frozen: true}
        steps: [{name: s, run: "date -u +%s"}]
        oracle: {any: [{step: s, stdout: "^1711844990$"}]}
        """)
    done = project.repro("run", f"scenarios/{sid}", "--json",
                         env={"DOCKER_HOST": engine.tcp, **engine.tls})
    assert done.returncode == 0, done.stderr
    record = project.record(json.loads(done.stdout))
    assert record["steps"][0]["stdout"] == "1711844990\n"
    assert record["facts"]["engine"] == engine.tcp
    assert engine.names("volume") == []  # the library was copied in, not kept in a volume
