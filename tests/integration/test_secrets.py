"""Secrets planted in every channel and common encoding are found in no file a run writes,
nor in the baseline committed to git, nor on screen; a kill mid-step leaves none on disk."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

from conftest import Project

# Non-ASCII, a quote and a backslash: `tojson` escapes every one of them.
SECRET = 'Pässwört"9\\x-7781'
# Where these tests plant the secret and look for it (README, "Guarantees", counts them).
CHANNELS = ("step stdout", "step stderr", "environment variables", "config files",
            "captured files", "record.json", "baseline.yaml", "plan", "run output",
            "error messages", "step output on disk after kill -9")


def _forms() -> dict[str, str]:
    raw = SECRET.encode()
    return {"as written": SECRET, "tojson": json.dumps(SECRET)[1:-1],
            "url": quote(SECRET, safe=""), "base64": base64.b64encode(raw).decode(),
            "hex": raw.hex()}


def _leaks(texts: dict[str, str]) -> list[str]:
    return [f"{name} in {where}" for where, text in texts.items()
            for name, form in _forms().items() if form in text]


def _env(project: Project) -> None:
    project.env("sec", """\
        image: repro-base/busybox
        parameters:
          token: {default: "", secret: true}
        env:
          TOKEN_JSON: "{{ token | tojson }}"
          TOKEN_URL: "{{ token | urlencode }}"
        files:
          - path: /etc/app/app.json
            content: '{"token": {{ token | tojson }}}'
        """)


def test_a_secret_in_every_channel_and_encoding_is_written_nowhere(project: Project) -> None:
    _env(project)
    params = json.dumps({"token": SECRET})
    sid = project.scenario("secrets", f"""\
        environment: sec
        parameters: {params}
        steps:
          - name: show
            run: |
              cat /etc/app/app.json; echo
              echo "json=$TOKEN_JSON url=$TOKEN_URL"
              printf '%s' "$(cat /etc/app/app.json)" | base64
              printf '%s' '{{{{ token }}}}' | base64
              printf '%s' '{{{{ token }}}}' | od -An -tx1 | tr -d ' \\n'; echo
              echo '{{{{ token }}}}' >&2
        capture: [/etc/app/app.json]
        oracle: {{any: [{{step: show, stdout: "json="}}]}}
        """)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    run_dir = (project.root / result["record"]).parent
    files = {str(p.relative_to(run_dir)): p.read_text(errors="replace")
             for p in run_dir.rglob("*") if p.is_file()}
    assert {"record.json", "steps/01-show.stdout", "steps/01-show.stderr"} <= set(files)
    assert _leaks(files) == []
    assert "***" in files["steps/01-show.stdout"] and "***" in files["steps/01-show.stderr"]

    baseline = project.repro("baseline", f"scenarios/{sid}", "--yes")
    assert baseline.returncode == 0, baseline.stderr
    committed = (project.root / "scenarios" / sid / "baseline.yaml").read_text()
    shown = project.repro("run", f"scenarios/{sid}")
    plan = project.repro("plan", f"scenarios/{sid}")
    assert _leaks({"baseline.yaml": committed, "run output": shown.stdout + shown.stderr,
                   "plan": plan.stdout + plan.stderr}) == []


def test_a_run_killed_mid_step_leaves_no_secret_on_disk(project: Project) -> None:
    _env(project)
    sid = project.scenario("killed", f"""\
        environment: sec
        parameters: {json.dumps({"token": SECRET})}
        steps:
          - name: talk
            run: "echo 'token {{{{ token }}}}'; echo '{{{{ token | tojson }}}}'; sleep 60"
        oracle: {{any: [{{step: talk, failed: true}}]}}
        """)
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", f"scenarios/{sid}"],
                            cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "NO_COLOR": "1"})
    out_file = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and out_file is None:
        found = list((project.root / ".repro" / "runs").glob("*/steps/01-talk.stdout"))
        if found and b"token" in found[0].read_bytes():
            out_file = found[0]
        time.sleep(0.1)
    assert out_file is not None, "the step never printed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    files = {str(p): p.read_text(errors="replace") for p in out_file.parent.parent.rglob("*")
             if p.is_file()}
    assert _leaks(files) == []
    assert "token ***" in out_file.read_text()
    subprocess.run([sys.executable, "-m", "repro", "gc"], cwd=project.root,
                   capture_output=True, timeout=120)


def test_a_secret_delivered_as_a_file_is_not_in_the_containers_configuration(
        project: Project) -> None:
    project.env("secfile", """\
        image: repro-base/busybox
        user: "1000"
        parameters:
          token: {default: "", secret: true, file: /run/secrets/token}
        """)
    sid = project.scenario("secfile", f"""\
        environment: secfile
        parameters: {json.dumps({"token": SECRET})}
        steps:
          - name: read
            run: "stat -c '%a %u' /run/secrets/token; wc -c < /run/secrets/token; env"
        oracle: {{any: [{{step: read, exit_code: 0}}]}}
        """)
    code, result, stderr = project.run_json(sid, "--keep")
    try:
        assert code == 0, stderr
        inspect = subprocess.run(["docker", "inspect", result["sandbox"]], capture_output=True,
                                 text=True, check=True).stdout
    finally:
        project.repro("gc", "--run", result["run_id"])
    out = project.record(result)["steps"][0]["stdout"].splitlines()
    assert out[0] == "400 1000"  # readable by the steps' user only
    assert int(out[1]) == len(SECRET.encode())  # the value itself, whole
    assert _leaks({"docker inspect": inspect, "step env": "\n".join(out[2:])}) == []


def test_a_secret_quoted_by_an_error_message_is_masked_everywhere_it_is_shown(
        project: Project) -> None:
    # A template error quotes the value it failed on: `'dict object' has no attribute
    # '<the secret>'`. validate, plan, run and run --json all print it.
    project.env("err", """\
        image: repro-base/busybox
        parameters:
          token: {default: "", secret: true}
        files:
          - path: /etc/app/lookup.conf
            content: "{{ {'known': 1}[token] }}"
        """)
    sid = project.scenario("err", f"""\
        environment: err
        parameters: {json.dumps({"token": SECRET})}
        steps: [{{name: s, run: "true"}}]
        oracle: {{any: [{{step: s, exit_code: 0}}]}}
        """)
    shown = {}
    for command in (("validate", f"scenarios/{sid}"), ("plan", f"scenarios/{sid}"),
                    ("run", f"scenarios/{sid}"), ("run", f"scenarios/{sid}", "--json")):
        done = project.repro(*command)
        assert done.returncode == 2, (command, done.stderr)
        assert "has no attribute '***'" in done.stdout + done.stderr, (command, done.stderr)
        shown[" ".join(command[:1] + command[2:])] = done.stdout + done.stderr
    assert _leaks(shown) == []
