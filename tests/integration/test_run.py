"""`repro run` end to end on a real engine: parameters, data, steps, captures, oracle, record."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

from conftest import Project


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _tar_gz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


def test_customer_case_reproduces_with_their_parameters_and_data(project: Project) -> None:
    sid = project.scenario("ACME", """\
        title: totals wrong for ACME
        ticket: SUP-1
        environment: bb
        parameters_from: [customer/settings.ini]
        parameters: {retries: 5}
        data:
          - {from: customer/orders.csv, to: /data/orders.csv}
          - {from: customer/attachments, to: /data/attachments}
          - {from: customer/bundle.tar.gz, to: /data/bundle}
          - {from: customer/more.zip, to: /data/zipped}
        steps:
          - name: config
            run: cat /etc/app/app.conf
          - name: data
            run: >-
              cat /data/orders.csv /data/attachments/note.txt
              /data/bundle/inner/a.txt /data/zipped/z.txt
          - name: echo-input
            run: tr a-z A-Z
            stdin: "typed by the customer"
          - name: total
            run: echo "total=$(grep -c , /data/orders.csv)"; echo "$GREETING failed" >&2; exit 4
          - name: never
            run: echo unreachable
        capture:
          - /etc/app/app.conf
          - {path: /data/orders.csv, name: orders}
          - /tmp/not-there.txt
        oracle:
          all:
            - {step: total, exit_code: 4}
            - {step: total, stderr: "bonjour failed"}
            - {file: orders, contains: "^2,"}
            - {file: /tmp/not-there.txt, exists: false}
        """, files={
        "customer/settings.ini": "[app]\ngreeting = bonjour\n",
        "customer/orders.csv": "id,amount\n1,10\n2,20\n",
        "customer/attachments/note.txt": "see attached\n",
        "customer/bundle.tar.gz": _tar_gz({"inner/a.txt": "from tar\n"}),
        "customer/more.zip": _zip({"z.txt": "from zip\n"}),
    })
    customer = project.root / "scenarios" / sid / "customer"
    before = _digest(customer)

    code, result, _ = project.run_json(sid)

    assert code == 0, result
    assert result["scenario"] == sid and result["expected"] == "reproduces"
    assert result["reproduced"] is True and result["ok"] is True
    assert result["run_id"].startswith(sid)
    record = project.record(result)
    steps = {s["name"]: s for s in record["steps"]}
    # Parameters: INI file overrides the default, inline overrides the default type-aware.
    assert steps["config"]["stdout"] == "greeting = bonjour\nretries = 5\ntoken = \n"
    assert steps["data"]["stdout"] == ("id,amount\n1,10\n2,20\nsee attached\nfrom tar\n"
                                       "from zip\n")
    assert steps["echo-input"]["stdout"] == "TYPED BY THE CUSTOMER"
    assert steps["total"]["status"] == "failed" and steps["total"]["exit_code"] == 4
    assert steps["total"]["stdout"] == "total=3\n"
    assert steps["never"]["status"] == "skipped"  # stop_on_failure is the default
    assert [c["fired"] for c in record["oracle"]["conditions"]] == [True, True, True, True]
    captures = {c["name"]: c for c in record["captures"]}
    assert captures["orders"]["sha256"] == before["orders.csv"]
    assert captures["not-there.txt"]["exists"] is False
    run_dir = project.root / result["record"].rsplit("/", 1)[0]
    assert (run_dir / captures["app.conf"]["artifact"]).read_text().startswith("greeting = bon")
    assert (run_dir / steps["total"]["stderr_file"]).read_text() == "bonjour failed\n"
    assert record["image"]["ref"] == "repro-base/busybox" and record["image"]["id"]
    assert record["facts"]["engine_version"]
    assert _digest(customer) == before  # the customer's originals are untouched


def test_fixed_scenario_whose_error_still_shows_exits_1(project: Project) -> None:
    sid = project.scenario("still-broken", """\
        environment: bb
        expect: fixed
        steps:
          - {name: total, run: "echo 'Traceback: boom' >&2; exit 1"}
        oracle:
          any: [{step: total, stderr: Traceback}]
        """)
    code, result, _ = project.run_json(sid)
    assert code == 1
    assert (result["reproduced"], result["ok"], result["verdict"]) == (True, False, "REPRODUCED")


def test_readable_summary_names_steps_tail_and_verdict(project: Project) -> None:
    sid = project.scenario("summary", """\
        environment: bb
        expect: fixed
        steps:
          - {name: report, run: "seq 1 20"}
        oracle:
          any: [{step: report, stdout: "^21$"}]
        """)
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == sid
    assert any(line.split()[:4] == ["ok", "report", "exit", "0"] for line in lines)
    assert "      out| 20" in lines and "      out| 15" in lines and "      out| 14" not in lines
    assert any("NOT REPRODUCED  (expected: fixed) -> as expected" in line for line in lines)
    assert "Traceback" not in done.stderr


def test_step_timeout_kills_the_step_and_its_children(project: Project) -> None:
    sid = project.scenario("hang", """\
        environment: bb
        steps:
          - name: hang
            run: "sleep 300 & echo started; sleep 300"
            timeout: 1s
            stop_on_failure: false
          - name: after
            run: "ps -o comm | grep -c sleep || true"
        oracle:
          any: [{step: hang, timed_out: true}]
        """)
    code, result, _ = project.run_json(sid)
    record = project.record(result)
    hang, after = record["steps"]
    assert code == 0 and result["reproduced"] is True
    assert hang["status"] == "timed_out" and hang["stdout"] == "started\n"
    assert 1.0 <= hang["duration_s"] < 10
    # Only the sandbox's own idle `sleep 3600` is left: the step's two sleeps are gone.
    assert after["status"] == "ok" and after["stdout"].strip() == "1"


def test_secret_parameter_never_reaches_record_or_artifacts(project: Project) -> None:
    secret = "tok-9f8e7d6c5b4a"
    sid = project.scenario("secret", f"""\
        environment: bb
        parameters: {{api_token: "{secret}"}}
        steps:
          - {{name: leak, run: "cat /etc/app/app.conf; echo token is {{{{ api_token }}}}"}}
        capture: [/etc/app/app.conf]
        oracle:
          any: [{{step: leak, stdout: "token is"}}]
        """)
    code, result, _ = project.run_json(sid)
    assert code == 0
    run_dir = (project.root / result["record"]).parent
    texts = [p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file()]
    assert len(texts) >= 4 and not any(secret in t for t in texts)
    record = project.record(result)
    assert record["steps"][0]["stdout"].endswith("token is ***\n")
    assert record["parameters"]["api_token"] == "***"
    plan = project.repro("plan", f"scenarios/{sid}")
    assert plan.returncode == 0 and secret not in plan.stdout and "***" in plan.stdout


def test_two_simultaneous_runs_of_one_scenario_stay_apart(project: Project) -> None:
    import json
    import subprocess
    import sys

    sid = project.scenario("twice", """\
        environment: bb
        steps:
          - {name: mark, run: "test ! -e /tmp/mark && touch /tmp/mark && sleep 1 && hostname"}
        oracle:
          any: [{step: mark, exit_code: 0}]
        """)
    procs = [subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}",
                               "--json"], cwd=project.root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert results[0]["run_id"] != results[1]["run_id"]
    assert all(r["reproduced"] for r in results)


def test_shell_enters_the_loaded_sandbox_and_removes_it_on_exit(project: Project) -> None:
    import os
    import subprocess
    import sys

    sid = project.scenario("shell", """\
        environment: bb
        data: [{from: data.txt, to: /data/data.txt}]
        steps:
          - {name: touch, run: "echo replayed > /tmp/after-steps"}
        oracle:
          any: [{step: touch, exit_code: 0}]
        """, files={"data.txt": "customer data\n"})
    script = "cat /data/data.txt /etc/app/app.conf; cat /tmp/after-steps; exit 7\n"
    env = {**os.environ, "NO_COLOR": "1"}
    before = subprocess.run([sys.executable, "-m", "repro", "shell", sid, "--no-steps"],
                            cwd=project.root, input=script, capture_output=True, text=True,
                            timeout=120, env=env)
    assert before.returncode == 7, before.stderr  # the shell's own exit status
    assert before.stdout.startswith("customer data\ngreeting = hello\n")
    assert "replayed" not in before.stdout
    after = subprocess.run([sys.executable, "-m", "repro", "shell", sid], cwd=project.root,
                           input=script, capture_output=True, text=True, timeout=120, env=env)
    assert after.returncode == 7, after.stderr
    assert "REPRODUCED  (expected: reproduces) -> as expected" in after.stdout
    assert after.stdout.rstrip().endswith("replayed")
    # --command takes a command line, as a step's run: does
    line = subprocess.run([sys.executable, "-m", "repro", "shell", sid, "--no-steps", "-c",
                           "cat /etc/app/app.conf; exit 5"], cwd=project.root, input="",
                          capture_output=True, text=True, timeout=120, env=env)
    assert line.returncode == 5 and line.stdout.startswith("greeting = hello\n"), line.stderr
    # and `repro runs` says what these runs were: shell sessions, not unreplayed runs
    listed = [row for row in project.repro("runs").stdout.splitlines() if sid in row]
    assert len(listed) == 3 and "NOT REPLAYED" not in "\n".join(listed), listed
    assert sum("shell session, no steps" in row for row in listed) == 2, listed
    assert sum(" REPRODUCED " in row and "shell session " in row for row in listed) == 1


def test_step_with_unread_stdin_still_times_out(project: Project) -> None:
    sid = project.scenario("stdin-hang", """\
        environment: bb
        steps:
          - {name: hang, run: "sleep 60", timeout: 2s, stdin_file: big.bin}
        oracle: {any: [{step: hang, timed_out: true}]}
        """, files={"big.bin": b"\0" * 5_000_000})
    code, result, _ = project.run_json(sid)
    step = project.record(result)["steps"][0]
    assert code == 0 and step["status"] == "timed_out" and step["duration_s"] < 10


def test_captured_symlink_and_trailing_slash_destination(project: Project) -> None:
    sid = project.scenario("links", """\
        environment: bb
        data: [{from: orders.csv, to: /srv/import/}]
        steps:
          - {name: link, run: "ln -s /srv/import/orders.csv /tmp/latest.csv && ls /srv/import"}
        capture: [/tmp/latest.csv]
        oracle: {any: [{file: latest.csv, contains: "^1,10$"}]}
        """, files={"orders.csv": "id,amount\n1,10\n"})
    code, result, _ = project.run_json(sid)
    record = project.record(result)
    assert code == 0, record
    assert record["steps"][0]["stdout"] == "orders.csv\n"
    assert record["captures"][0]["kind"] == "file"


def test_json_output_and_kept_sandbox_when_a_run_fails(project: Project) -> None:
    # A zip whose directory is sound and whose body is damaged: the plan (headers only)
    # passes, the packing in the live sandbox fails on the checksum.
    damaged = bytearray(_zip({"a.txt": "hello, sandbox"}))
    damaged[damaged.index(b"hello")] ^= 0x20
    sid = project.scenario("broken-data", """\
        environment: bb
        data: [{from: bad.zip, to: /data}]
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, failed: true}]}
        """, files={"bad.zip": bytes(damaged)})
    done = project.repro("run", f"scenarios/{sid}", "--json", "--keep")
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result["status"] == "error" and "cannot read the archive" in result["error"]
    assert "was kept (--keep)" in done.stderr and f"repro gc --run {result['run_id']}" \
        in done.stderr
    gc = project.repro("gc", "--run", result["run_id"])
    assert gc.returncode == 0 and "removed container" in gc.stdout


def test_endless_output_is_cut_not_stored_forever(project: Project) -> None:
    import os
    import subprocess
    import sys

    sid = project.scenario("chatty", """\
        environment: bb
        steps: [{name: s, run: "yes 0123456789 | head -c 3000000; echo done"}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    done = subprocess.run([sys.executable, "-m", "repro", "run", f"scenarios/{sid}", "--json"],
                          cwd=project.root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "REPRO_MAX_OUTPUT": "100000"})
    run_dir = (project.root / json.loads(done.stdout)["record"]).parent
    text = (run_dir / "steps" / "01-s.stdout").read_text()
    assert len(text) < 100_100 and text.endswith("\n[repro: output cut at 100000 bytes]\n")


def test_a_step_that_cannot_start_is_a_setup_error_not_a_verdict(project: Project) -> None:
    for key, value, reason in (("user", "nosuchuser", "unable to find user nosuchuser"),
                               ("workdir", "/no/such/dir", "no such file or directory"),
                               ("run", "[nosuchcmd, arg]", "executable file not found")):
        sid = project.scenario(f"unstarted-{key}", f"""\
            environment: bb
            steps:
              - name: s
                {'' if key == 'run' else 'run: "true"'}
                {key}: {value}
            oracle: {{any: [{{step: s, failed: true}}]}}
            """)
        done = project.repro("run", f"scenarios/{sid}")
        last = done.stderr.splitlines()[-1]
        assert done.returncode == 2, done.stdout
        # The engine's reason reaches the stream most of the time, not always.
        assert last.startswith(f"repro: error: scenarios/{sid}/scenario.yaml: steps.s: could "
                               "not start: ") and (reason in last.lower() or
                                                   "the engine could not start it" in last), last
        assert "REPRODUCED" not in done.stdout


def test_json_callers_get_an_object_for_configuration_errors_too(project: Project) -> None:
    sid = project.scenario("typo", """\
        environment: bb
        steps: [{name: s, run: "true", timout: 3}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    done = project.repro("run", f"scenarios/{sid}", "--json")
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert (result["status"], result["ok"], result["run_id"]) == ("error", False, None)
    assert result["error"] == (f"scenarios/{sid}/scenario.yaml:2: steps[0].timout: unknown "
                               "key (did you mean 'timeout'?)")


def test_a_timeout_spares_what_earlier_steps_started(project: Project) -> None:
    sid = project.scenario("daemon", """\
        environment: bb
        steps:
          - {name: start-daemon, run: "setsid sleep 600 >/dev/null 2>&1 &"}
          - {name: hang, run: "sleep 300 & sleep 300", timeout: 1s, stop_on_failure: false}
          - {name: count, run: "ps -o args | grep -c '^sleep [36]00$' || true"}
        oracle: {any: [{step: hang, timed_out: true}]}
        """)
    code, result, _ = project.run_json(sid)
    steps = {s["name"]: s for s in project.record(result)["steps"]}
    assert code == 0 and steps["hang"]["status"] == "timed_out"
    assert steps["count"]["stdout"].strip() == "1"  # the daemon lives, the step's sleeps not


def test_a_base_named_through_a_build_argument_is_made_offline_and_built(
        project: Project) -> None:
    # `FROM repro-base/...:${ARG}`: the offline base is recognised once the argument is
    # resolved (it would otherwise be pulled from a registry that is not there).
    project.env("argbase", """\
        image:
          build:
            context: argbase
            args: {FLAVOUR: busybox}
        """, files={"argbase/Dockerfile": "ARG FLAVOUR=debian:bookworm\n"
                                          "FROM repro-base/${FLAVOUR}\n"
                                          "RUN echo built > /built\n"})
    sid = project.scenario("argbase", """\
        environment: argbase
        steps: [{name: s, run: "cat /built; ls /bin/busybox"}]
        oracle: {any: [{step: s, stdout: built}]}
        """)
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 0, done.stderr
    assert "REPRODUCED" in done.stdout
    (project.root / "environments/argbase/Dockerfile").write_text(
        "ARG FLAVOUR\nFROM repro-base/${FLAVOUR}\n")
    (project.root / "environments/argbase.yaml").write_text(
        "image: {build: {context: argbase}}\n")
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "repro: error: environments/argbase/Dockerfile:2: FROM: `FROM` names $FLAVOUR, which "
        "has no value: give its `ARG` a default or set it in the environment's `build.args`")


def test_a_timeout_is_met_even_when_the_step_leaves_a_daemon_holding_its_output(
        project: Project) -> None:
    sid = project.scenario("setsid", """\
        environment: bb
        steps:
          - {name: hang, run: "setsid sh -c 'while :; do echo tick; sleep 0.2; done' & sleep 60",
             timeout: 1s}
        oracle: {any: [{step: hang, timed_out: true}]}
        """)
    code, result, _ = project.run_json(sid)
    step = project.record(result)["steps"][0]
    assert code == 0 and step["status"] == "timed_out"
    # The timeout (1 s) plus a bounded grace (KILL_GRACE_S, 1 s) and the kill itself.
    assert step["duration_s"] < 3.0, step["duration_s"]
