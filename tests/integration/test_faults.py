"""Faults on a real engine: a service stopped, killed, paused, restarted, cut off the network,
slowed down; what the steps then see, what the record says, and that nothing is left."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import Project, engine_names

# A web service that takes a second to come up and serves a token made at each start (a
# restart shows as a new token); it leaves at once on SIGTERM.
WEB_ENV = """\
    image: repro-base/busybox
    services:
      web:
        image: repro-base/busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1; mkdir -p /www;
                  cat /proc/sys/kernel/random/uuid > /www/index.html;
                  httpd -f -p 8080 -h /www & wait"]
        ready: {tcp: 8080, timeout: 20s}
    """
FETCH = "wget -qO- http://web:8080/"  # (busybox 1.35 wget -T crashes)


def _run(project: Project, body: str) -> tuple[int, dict, dict, str]:
    project.env("web", WEB_ENV)
    sid = project.scenario("faults", body)
    code, result, stderr = project.run_json(sid)
    record = project.record(result)
    return code, {s["name"]: s for s in record["steps"]}, record, stderr


def _faults(record: dict) -> dict[str, dict]:
    return {f["name"]: f for f in record["faults"]}


def test_a_killed_then_started_service_is_gone_then_back(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - {{name: before, run: "{FETCH}"}}
          - fault: {{kill: web}}
            name: dies
          - {{name: gone, run: "timeout 5 {FETCH}", stop_on_failure: false}}
          - fault: {{start: web}}
            name: back
          - {{name: again, run: "{FETCH}"}}
        oracle: {{any: [{{step: gone, failed: true}}]}}
        """)
    assert code == 0, stderr
    assert steps["before"]["status"] == "ok" and steps["gone"]["status"] == "failed"
    # `start` waited for readiness (the service sleeps 1 s first): the next step got an
    # answer at the first try, and a new token (a new start).
    assert steps["again"]["status"] == "ok"
    assert steps["again"]["stdout"] != steps["before"]["stdout"]
    faults = _faults(record)
    assert faults["dies"]["status"] == "done" and faults["dies"]["description"] == \
        "kill web (SIGKILL)"
    assert faults["back"]["ended_epoch"] - faults["back"]["started_epoch"] >= 0.9
    assert steps["before"]["ended_at"] <= faults["dies"]["started_at"] <= \
        steps["gone"]["started_at"]


def test_a_stopped_service_fails_a_step_and_a_query_of_it_says_why(project: Project) -> None:
    code, steps, record, _ = _run(project, f"""\
        environment: web
        steps:
          - fault: {{stop: web}}
            name: down
          - {{name: fetch, run: "timeout 5 {FETCH}"}}
        queries:
          - {{name: rows, service: web, sql: "select 1"}}
        oracle: {{any: [{{step: fetch, failed: true}}]}}
        """)
    # The query cannot run: said at once, and the run has no verdict (exit 2).
    assert code == 2 and record["reproduced"] is None
    assert steps["fetch"]["status"] == "failed"
    assert record["error"].endswith(
        "queries[0]: query 'rows' cannot run: service web is not running (exited, exit 0) "
        "(fault 'down': stop web); bring the service back before the steps end (start, "
        "unpause) or drop the query")


def test_a_paused_service_holds_a_request_until_it_is_unpaused(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - {{name: warm, run: "{FETCH}"}}
          - fault: {{pause: web, duration: 2s}}
            name: freeze
          - {{name: held, run: "{FETCH}"}}
          - fault: {{pause: web}}
            name: freeze-again
          - {{name: stuck, run: "timeout 2 {FETCH}", stop_on_failure: false}}
          - fault: {{unpause: web}}
          - {{name: free, run: "{FETCH}"}}
          - fault: {{pause: web}}
            name: left-paused
        oracle: {{any: [{{step: stuck, timed_out: false}}]}}
        """)
    assert code == 0, stderr
    # The request waited for the timed unpause: about 2 s, and then it got its answer.
    assert steps["held"]["status"] == "ok" and 1.5 <= steps["held"]["duration_s"] < 5
    assert steps["held"]["stdout"] == steps["warm"]["stdout"]
    assert steps["stuck"]["status"] == "failed" and steps["stuck"]["exit_code"] == 143
    assert steps["free"]["stdout"] == steps["warm"]["stdout"]
    freeze = _faults(record)["freeze"]
    assert freeze["undo"] == "unpause" and freeze["undone_early"] is False
    assert 1.9 <= freeze["undone_epoch"] - freeze["started_epoch"] < 4
    # The service was left paused: it goes with the sandbox all the same (the fixture
    # checks that nothing is left).
    assert _faults(record)["left-paused"]["status"] == "done"


def test_a_restarted_service_comes_back_ready_with_a_new_process(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - {{name: before, run: "{FETCH}"}}
          - fault: {{restart: web}}
            name: bounce
          - {{name: after, run: "{FETCH}"}}
        oracle: {{any: [{{step: after, failed: true}}]}}
        """)
    assert code == 1, stderr  # the oracle wanted a failure: none
    assert steps["after"]["status"] == "ok"
    assert steps["after"]["stdout"] != steps["before"]["stdout"]  # a new start
    bounce = _faults(record)["bounce"]
    assert 0.9 <= bounce["ended_epoch"] - bounce["started_epoch"] < 8  # waited until ready


def test_a_disconnected_service_is_unreachable_then_back_by_name(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - {{name: before, run: "{FETCH}"}}
          - fault: {{disconnect: web, duration: 30s}}
            name: cut
          - {{name: cut-off, run: "timeout 3 {FETCH}", stop_on_failure: false}}
          - fault: {{reconnect: web}}
            name: mend
          - {{name: after, run: "{FETCH}"}}
        oracle: {{any: [{{step: cut-off, failed: true}}]}}
        """)
    assert code == 0, stderr
    assert steps["cut-off"]["status"] == "failed"
    assert steps["after"]["stdout"] == steps["before"]["stdout"]  # same process, same name
    # The explicit reconnect ended the timed disconnect: its timer did nothing more.
    cut, mend = _faults(record)["cut"], _faults(record)["mend"]
    assert cut["undone_by"] == "mend" and cut["undo_error"] is None
    assert 0 <= cut["undone_epoch"] - mend["started_epoch"] < 1


def test_a_timed_disconnect_is_undone_and_the_service_answers_again(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - {{name: before, run: "{FETCH}"}}
          - fault: {{disconnect: web, duration: 2s}}
            name: cut
          - {{name: cut-off, run: "timeout 1 {FETCH}", stop_on_failure: false}}
          - {{name: wait, run: "sleep 2"}}
          - {{name: after, run: "{FETCH}"}}
        oracle: {{any: [{{step: cut-off, failed: true}}]}}
        """)
    assert code == 0, stderr
    assert steps["cut-off"]["status"] == "failed"
    assert steps["after"]["status"] == "ok" and steps["after"]["stdout"] == \
        steps["before"]["stdout"]
    cut = _faults(record)["cut"]
    assert cut["undo"] == "reconnect" and cut["undone_early"] is False and \
        cut["undo_error"] is None


def test_a_fault_the_engine_refuses_is_a_setup_error_not_a_verdict(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - fault: {{unpause: web}}
            name: thaw
          - {{name: never, run: "{FETCH}"}}
        oracle: {{any: [{{step: never, failed: true}}]}}
        """)
    assert code == 3
    assert re.search(r"^repro: error: fault 'thaw' \(unpause web\): unpausing service web "
                     r"failed: .*is not paused", stderr, re.M), stderr
    assert record["status"] == "error" and record["reproduced"] is None
    assert _faults(record)["thaw"]["status"] == "failed"
    assert steps["never"]["status"] == "skipped"  # the run never got there


# ---- network conditions (netem): need the kernel's sch_netem on the engine's host ----------


def _kernel_has_netem() -> bool:
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "--cap-add",
                           "NET_ADMIN", "repro-base/tools:bookworm", "tc", "qdisc", "add",
                           "dev", "lo", "root", "netem", "delay", "1ms"],
                          capture_output=True, text=True)
    if done.returncode != 0 and "qdisc kind is unknown" not in done.stderr:
        pytest.fail(f"cannot tell whether the kernel has netem: {done.stderr.strip()}")
    return done.returncode == 0


@pytest.fixture(scope="module")
def netem() -> bool:
    return _kernel_has_netem()


PING = "ping -q -c {count} -i 0.2 -W 2 web"


def test_network_conditions_are_shaped_or_refused_before_the_run_starts(
        project: Project, netem: bool) -> None:
    # Never skipped: whichever the engine's kernel offers is what gets proved here.
    if netem:
        _latency_adds_to_the_round_trip_and_clears(project)
        _loss_drops_a_share_of_the_packets(project)
        return
    code, steps, record, stderr = _run(project, """\
        environment: web
        steps:
          - fault: {network: web, latency: 200ms}
          - {name: ping, run: "ping -c 1 web"}
        oracle: {any: [{step: ping, failed: true}]}
        """)
    assert code == 3 and not steps and record["sandbox"]["name"] is None
    assert stderr.splitlines()[-1] == (
        "repro: error: checking that the engine can shape a network (netem) failed: the "
        "engine's kernel has no netem (the sch_netem module), so latency, jitter, loss and "
        "rate cannot be shaped on this host; load it there with `modprobe sch_netem`")
    assert engine_names("container", "io.repro.run=network-check") == []


def test_clearing_a_network_runs_its_helper_in_the_service_and_leaves_nothing(
        project: Project) -> None:
    # Needs no netem: the tools helper joins the service's network namespace, removes
    # what is there (nothing) and is removed; the fixture finds no container of the run.
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - fault: {{network: web, clear: true}}
            name: calm
          - {{name: last, run: "{FETCH}"}}
        oracle: {{any: [{{step: last, failed: true}}]}}
        """)
    assert code == 1, stderr  # the service still answers: the oracle stays quiet
    calm = _faults(record)["calm"]
    assert calm["status"] == "done" and calm["description"] == "network web: clear"


def _average_rtt(step: dict) -> float:
    found = re.search(r"min/avg/max = [\d.]+/([\d.]+)/", step["stdout"])
    assert found, step["stdout"]
    return float(found.group(1))


def _loss(step: dict) -> float:
    found = re.search(r"(\d+)% packet loss", step["stdout"])
    assert found, step["stdout"]
    return float(found.group(1))


def _latency_adds_to_the_round_trip_and_clears(project: Project) -> None:
    code, steps, record, stderr = _run(project, f"""\
        environment: web
        steps:
          - {{name: plain, run: "{PING.format(count=5)}"}}
          - fault: {{network: web, latency: 200ms, jitter: 10ms}}
            name: slow
          - {{name: slowed, run: "{PING.format(count=5)}"}}
          - fault: {{network: web, clear: true}}
          - {{name: cleared, run: "{PING.format(count=5)}"}}
        oracle: {{any: [{{step: slowed, failed: true}}]}}
        """)
    assert code == 1, stderr
    plain, slowed, cleared = (_average_rtt(steps[n]) for n in ("plain", "slowed", "cleared"))
    assert 180 <= slowed - plain <= 260, (plain, slowed)
    assert cleared < plain + 20, (plain, cleared)
    assert _faults(record)["slow"]["description"] == "network web: latency 200ms ±10ms"


def _loss_drops_a_share_of_the_packets(project: Project) -> None:
    code, steps, _, stderr = _run(project, f"""\
        environment: web
        steps:
          - fault: {{network: web, loss: 50%, duration: 30s}}
          - {{name: lossy, run: "{PING.format(count=60)}", stop_on_failure: false}}
        oracle: {{any: [{{step: lossy, failed: true}}]}}
        """)
    assert code in (0, 1), stderr
    assert 25 <= _loss(steps["lossy"]) <= 75  # 50 % of 60 replies, give or take chance
