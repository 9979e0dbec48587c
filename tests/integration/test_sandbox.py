"""Sandbox properties on a real engine: isolation, limits, builds and their cache, images."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import Project


def test_no_egress_by_default_and_egress_when_asked(project: Project) -> None:
    # No packets are sent: we only read the routing table inside the sandbox.
    project.env("open", "image: repro-base/busybox\nnetwork: {egress: true}\n")
    body = """\
        environment: {env}
        steps:
          - {{name: routes, run: "cat /proc/net/route; ls /sys/class/net"}}
        oracle:
          any: [{{step: routes, stdout: "\\\\t00000000\\\\t"}}]
        """
    closed = project.scenario("closed", body.format(env="bb"))
    opened = project.scenario("opened", body.format(env="open"))
    code, result, _ = project.run_json(closed)
    assert code == 1 and result["reproduced"] is False  # no default route
    assert project.record(result)["steps"][0]["stdout"].split()[-1] == "lo"
    code, result, _ = project.run_json(opened)
    assert code == 0 and result["reproduced"] is True  # a default route exists
    assert project.record(result)["sandbox"]["network_egress"] is True


def test_limits_user_workdir_are_applied_and_keep_leaves_sandbox(project: Project) -> None:
    project.env("tight", """\
        image: repro-base/busybox
        user: "1000"
        workdir: /data
        limits: {memory: 64m, cpus: 0.5, pids: 64}
        """)
    sid = project.scenario("tight", """\
        environment: tight
        data: [{from: in.txt, to: /data/in.txt}]
        steps:
          - {name: who, run: "id -u; pwd; echo more >> in.txt && cat in.txt"}
        oracle:
          any: [{step: who, exit_code: 0}]
        """, files={"in.txt": "customer\n"})
    code, result, _ = project.run_json(sid, "--keep")
    try:
        assert code == 0, result
        assert project.record(result)["steps"][0]["stdout"] == "1000\n/data\ncustomer\nmore\n"
        name = result["sandbox"]
        inspect = json.loads(subprocess.run(["docker", "inspect", name], capture_output=True,
                                            text=True, check=True).stdout)[0]["HostConfig"]
        assert (inspect["Memory"], inspect["NanoCpus"], inspect["PidsLimit"]) == \
            (64 * 1024**2, 500_000_000, 64)
        assert inspect["NetworkMode"] == "none"
    finally:
        gc = project.repro("gc", "--run", result["run_id"])
    assert gc.returncode == 0 and f"removed container {result['sandbox']}" in gc.stdout
    assert project.leftovers() == []
    assert (project.root / "scenarios" / sid / "in.txt").read_text() == "customer\n"


def test_built_image_is_cached_by_content_and_args(project: Project) -> None:
    project.env("built", """\
        image:
          build:
            context: app
            args: {FLAVOUR: "{{ flavour }}"}
        parameters: {flavour: plain}
        """, files={"app/Dockerfile": "FROM repro-base/busybox\nARG FLAVOUR\n"
                    "COPY hello.txt /hello.txt\nRUN echo \"$FLAVOUR\" > /flavour\n",
                    "app/hello.txt": f"hello {project.tag}\n"})
    sid = project.scenario("built", """\
        environment: built
        steps:
          - {name: show, run: "cat /hello.txt /flavour"}
        oracle:
          any: [{step: show, stdout: hello}]
        """)
    first = project.repro("run", f"scenarios/{sid}", "--json")
    second = project.repro("run", f"scenarios/{sid}", "--json")
    third = project.repro("run", f"scenarios/{sid}", "--json", "--param", "flavour=spicy")
    records = [project.record(json.loads(p.stdout)) for p in (first, second, third)]
    assert [r["image"]["built"] for r in records] == [True, False, True]
    assert "building image" in first.stderr and "building image" not in second.stderr
    assert records[0]["image"]["id"] == records[1]["image"]["id"] != records[2]["image"]["id"]
    assert records[2]["steps"][0]["stdout"] == f"hello {project.tag}\nspicy\n"
    (project.root / "environments/app/hello.txt").write_text("changed\n")
    fourth = project.record(json.loads(project.repro("run", f"scenarios/{sid}",
                                                     "--json").stdout))
    assert fourth["image"]["built"] is True and fourth["steps"][0]["stdout"] == "changed\nplain\n"
    images = subprocess.run(["docker", "images", "-q", "--filter",
                             "label=io.repro.cache-key"], capture_output=True, text=True)
    for record in records + [fourth]:  # tidy the engine: these images are this test's own
        subprocess.run(["docker", "rmi", "-f", record["image"]["ref"]], capture_output=True)
    assert images.returncode == 0


def test_failed_build_names_the_step_and_leaves_nothing(project: Project) -> None:
    marker = f"build-{project.tag}"
    project.env("broken", "image:\n  build: {context: app}\n",
                files={"app/Dockerfile": f"FROM repro-base/busybox\nRUN echo {marker} && exit 7\n"})
    sid = project.scenario("broken", """\
        environment: broken
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, exit_code: 0}]}
        """)
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 3
    error = [line for line in done.stderr.splitlines() if line.startswith("repro: error:")]
    assert len(error) == 1 and f"RUN echo {marker} && exit 7" in error[0]
    assert "returned a non-zero code: 7" in error[0] and "Traceback" not in done.stderr
    # No intermediate build container survives a failed build.
    commands = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--format", "{{.Command}}"],
                              capture_output=True, text=True, check=True).stdout
    assert marker not in commands


def test_absent_image_says_how_to_provide_it_offline(project: Project) -> None:
    project.env("absent", "image: registry.invalid/acme/app:9.9\n")
    sid = project.scenario("absent", """\
        environment: absent
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, exit_code: 0}]}
        """)
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 3
    error = done.stderr.strip().splitlines()[-1]
    engine = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert error.startswith("repro: error: image 'registry.invalid/acme/app:9.9' is not on "
                           f"the engine ({engine}) and could not be pulled")
    assert "docker load" in error and "repro-base/debian:bookworm" in error
    assert "Traceback" not in done.stderr


def test_unreachable_engine_is_one_line_exit_3(project: Project) -> None:
    sid = project.scenario("nodaemon", """\
        environment: bb
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, exit_code: 0}]}
        """)
    done = project.repro("run", f"scenarios/{sid}",
                         env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1].startswith(
        "repro: error: cannot reach the Docker engine at unix:///nonexistent/docker.sock")
    assert "Traceback" not in done.stderr


def test_with_services_and_no_egress_the_host_is_unreachable_too(project: Project) -> None:
    # The host listens on every address; without isolation the run's gateway (a host
    # address) and the default bridge's would answer.
    import socket
    import threading

    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(8)
    port = server.getsockname()[1]
    threading.Thread(target=lambda: [server.accept()[0].close() for _ in range(8)],
                     daemon=True).start()
    project.env("isolated", """\
        image: repro-base/busybox
        services:
          web: {image: repro-base/busybox, command: "httpd -f -p 8080", ready: {tcp: 8080}}
        """)
    sid = project.scenario("isolated", f"""\
        environment: isolated
        steps:
          - name: probe
            run: |
              addr=$(ip -4 addr show eth0 | awk '/inet /{{print $2}}')
              eval $(ipcalc -n "$addr")
              gw=$(echo "$NETWORK" | awk -F. '{{print $1"."$2"."$3"."$4+1}}')
              for target in "$gw" 172.17.0.1 1.1.1.1; do
                nc -w 3 "$target" {port} </dev/null 2>&1 || true
              done
              ip route
              nc -w 3 web 8080 </dev/null && echo "service reachable"
        oracle: {{any: [{{step: probe, stdout: "service reachable"}}]}}
        """)
    try:
        code, result, stderr = project.run_json(sid)
    finally:
        server.close()
    assert code == 0, stderr
    out = project.record(result)["steps"][0]["stdout"]
    assert out.count("Network is unreachable") == 3, out
    assert "default" not in out and "throw" in out  # no default route, gateway barred
    assert "service reachable" in out


def test_safe_defaults_drop_capabilities_and_privileges_and_bound_resources(
        project: Project) -> None:
    probe = ("grep NoNewPrivs /proc/self/status; mknod /tmp/null c 1 3 2>&1 && echo mknod-ok; "
             "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max")
    sid = project.scenario("defaults", f"""\
        environment: bb
        steps: [{{name: probe, run: "{probe}"}}]
        oracle: {{any: [{{step: probe, exit_code: 0}}]}}
        """)
    code, result, stderr = project.run_json(sid, "--keep")
    try:
        assert code == 0, stderr
        out = project.record(result)["steps"][0]["stdout"]
        host = json.loads(subprocess.run(["docker", "inspect", result["sandbox"]],
                                         capture_output=True, text=True,
                                         check=True).stdout)[0]["HostConfig"]
    finally:
        project.repro("gc", "--run", result["run_id"])
    assert "NoNewPrivs:\t1" in out and "mknod-ok" not in out and "1024" in out
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert {"NET_RAW", "MKNOD"} <= set(host["CapDrop"])
    assert (host["Memory"], host["PidsLimit"]) == (2 * 1024**3, 1024)

    project.env("relaxed", """\
        image: repro-base/busybox
        security: {no_new_privileges: false, capabilities: [MKNOD]}
        limits: {memory: 3g, pids: 2048}
        """)
    relaxed = project.scenario("relaxed", f"""\
        environment: relaxed
        steps: [{{name: probe, run: "{probe}"}}]
        oracle: {{any: [{{step: probe, exit_code: 0}}]}}
        """)
    code, result, stderr = project.run_json(relaxed)
    assert code == 0, stderr
    out = project.record(result)["steps"][0]["stdout"]
    assert "NoNewPrivs:\t0" in out and "mknod-ok" in out and "2048" in out


def test_a_service_has_no_route_out_at_start_after_a_restart_and_after_a_reconnect(
        project: Project) -> None:
    # The service publishes its own routing table; the steps read it over the network.
    # (Written aside then moved: a reader must never catch the file just truncated.)
    project.env("routes", """\
        image: repro-base/busybox
        services:
          web:
            image: repro-base/busybox
            command: >-
              mkdir -p /www; httpd -p 8080 -h /www;
              while :; do ip -4 route > /www/n; mv /www/n /www/r; sleep 0.1; done
            ready: {tcp: 8080}
        """)
    read = "sleep 0.5; wget -qO- http://web:8080/r"
    sid = project.scenario("routes", f"""\
        environment: routes
        steps:
          - {{name: at-start, run: "{read}"}}
          - {{name: restart, fault: {{restart: web}}}}
          - {{name: after-restart, run: "{read}"}}
          - {{name: cut, fault: {{disconnect: web}}}}
          - {{name: mend, fault: {{reconnect: web}}}}
          - {{name: after-reconnect, run: "{read}"}}
        oracle: {{any: [{{step: after-reconnect, exit_code: 0}}]}}
        """)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = {s["name"]: s for s in project.record(result)["steps"]}
    steps = {name: f'{s["stdout"]} (exit {s["exit_code"]}: {s["stderr"]})'
             for name, s in record.items()}
    for name in ("at-start", "after-restart", "after-reconnect"):
        assert "scope link" in steps[name], (name, steps[name])  # its own network only
        assert "default" not in steps[name] and "throw" in steps[name], (name, steps[name])
