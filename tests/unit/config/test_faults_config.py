"""`fault:` entries of the steps: what a scenario author may write, and one precise line for
each mistake (`repro validate` and `repro plan` exit 2)."""

from __future__ import annotations

import pytest

ENV = """\
image: busybox
services:
  db: {image: postgres:16, ready: {command: pg_isready}}
  web: {image: busybox}
"""


def _scenario(project, entry: str, env: str = "svc") -> None:
    project.environment("svc", ENV)
    project.environment("bare", "image: busybox\n")
    project.scenario("F", f"environment: {env}\nsteps:\n  - {{name: s, run: 'true'}}\n"
                     f"  - {entry}\noracle: {{any: [{{step: s, failed: true}}]}}\n")


@pytest.mark.parametrize("entry, message", [
    ("fault: {kill: dbb}",
     "steps[1].fault.kill: no service 'dbb' in the environment (did you mean 'db'?) "
     "(services: db, web)"),
    ("fault: {kill: db, pause: db}",
     "steps[1].fault.pause: a fault does one thing: give 'kill' or 'pause', in two entries "
     "if you want both"),
    ("fault: {network: db, latency: soon}",
     "steps[1].fault.latency: expected a duration like 30s, 2m or 500ms, got 'soon'"),
    ("fault: {network: db, loss: 120%}",
     "steps[1].fault.loss: must be between 0% and 100%, got '120%'"),
    ("fault: {network: db, loss: -1}",
     "steps[1].fault.loss: must be between 0% and 100%, got -1"),
    ("fault: {network: db, rate: fast}",
     "steps[1].fault.rate: expected a rate like 1mbit, 500kbit or 2mbps, got 'fast'"),
    ("fault: {network: db}",
     "steps[1].fault: a network fault needs latency, jitter, loss or rate (or `clear: true` "
     "to remove them)"),
    ("fault: {network: db, jitter: 5ms}",
     "steps[1].fault.jitter: jitter varies the latency: give `latency` too"),
    ("fault: {network: db, clear: true, loss: 5%}",
     "steps[1].fault.clear: `clear: true` removes the conditions: give it alone"),
    ("fault: {kill: db, signal: SIGTREM}",
     "steps[1].fault.signal: unknown signal 'SIGTREM' (did you mean 'SIGTERM'?)"),
    ("fault: {pause: db, signal: TERM}",
     "steps[1].fault.signal: 'signal' does not apply to a pause fault"),
    ("fault: {restart: db, duration: 5s}",
     "steps[1].fault.duration: 'duration' does not apply to a restart fault"),
    ("fault: {stop: sandbox}",
     "steps[1].fault.stop: the steps run in the sandbox container: faults act on services "
     "only"),
    ("fault: {}",
     "steps[1].fault: a fault needs one of stop, start, kill, restart, pause, unpause, "
     "disconnect, reconnect, network"),
    ("{fault: {stop: db}, run: 'true'}",
     "steps[1].fault: a step takes one of 'run', 'wait_for', 'parallel', 'fault'"),
    ("{fault: {stop: db}, timeout: 5s}",
     "steps[1].timeout: 'timeout' applies to a `run` step, not to `fault`"),
    ("{name: nothing}",
     "steps[1]: a step needs one of 'run', 'wait_for', 'parallel', 'fault'"),
])
def test_a_bad_fault_is_one_line_with_its_file_and_line(project, cli, entry, message):
    _scenario(project, entry)
    done = cli("plan", "scenarios/F")
    assert done.exit_code == 2
    assert done.stderr.strip().splitlines() == [
        f"repro: error: scenarios/F/scenario.yaml:4: {message}"]


def test_a_fault_in_an_environment_without_services_says_so(project, cli):
    _scenario(project, "fault: {stop: db}", env="bare")
    done = cli("plan", "scenarios/F")
    assert done.exit_code == 2
    assert done.stderr.strip() == (
        "repro: error: scenarios/F/scenario.yaml:4: steps[1].fault.stop: the environment has "
        "no services: faults act on services (declare them under `services:` in the "
        "environment)")


def test_the_oracle_cannot_look_at_a_fault(project, cli):
    project.environment("svc", ENV)
    project.scenario("F", "environment: svc\nsteps:\n  - {name: s, run: 'true'}\n"
                     "  - {name: down, fault: {stop: db}}\n"
                     "oracle: {any: [{step: down, failed: true}]}\n")
    done = cli("plan", "scenarios/F")
    assert done.exit_code == 2
    assert done.stderr.strip() == (
        "repro: error: scenarios/F/scenario.yaml:5: oracle.any[0].step: 'down' is a fault, "
        "not a command: the oracle looks at the steps that run commands")


def test_the_plan_shows_each_fault_in_words_and_values(project, cli):
    _scenario(project, "{name: slow, fault: {network: db, latency: 200ms, jitter: 20ms, "
                       "loss: '10%', rate: 1MBIT, duration: 30s}}")
    done = cli("plan", "scenarios/F", "--json")
    assert done.exit_code == 0, done.stderr
    import json

    (slow,) = json.loads(done.stdout)["faults"]
    assert slow == {"name": "slow", "fault": "network db: latency 200ms ±20ms, loss 10%, "
                    "rate 1mbit for 30s", "kind": "network", "service": "db",
                    "latency_s": 0.2, "jitter_s": 0.02, "loss_percent": 10.0, "rate": "1mbit",
                    "clear": False, "duration_s": 30.0, "undo": "clear"}


@pytest.mark.parametrize("written, signal", [("TERM", "SIGTERM"), (15, "SIGTERM"),
                                             ("sigusr1", "SIGUSR1"), ("SIGHUP", "SIGHUP")])
def test_a_kill_signal_may_be_written_any_usual_way(project, cli, written, signal):
    _scenario(project, f"{{name: k, fault: {{kill: web, signal: {written}}}}}")
    done = cli("plan", "scenarios/F", "--json")
    assert done.exit_code == 0, done.stderr
    import json

    assert json.loads(done.stdout)["faults"][0]["fault"] == f"kill web ({signal})"
