"""Conditions of the customer's machine: keys, precedence, rendering and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.show import plan_dict

from ..conftest import errors_of, line_of

ENV = """\
image: busybox
parameters:
  timezone: Europe/Berlin
  host: erp-prod-01
env:
  TZ: Asia/Tokyo
  LANG: C.UTF-8
timezone: "{{ timezone }}"
locale: en_GB.UTF-8
hostname: "{{ host }}"
tmpfs:
  /var/lib/app: 20m
  /var/cache/app: 1g
limits:
  memory: 256m
  shm_size: 64m
  ulimits: {nofile: 1024, nproc: {soft: 100, hard: 200}}
"""

SCENARIO = """\
environment: app
{extra}
steps: [{{name: s, run: "true"}}]
oracle: {{any: [{{step: s, failed: true}}]}}
"""


def plan_with(project, extra: str = "", env: str = ENV):
    project.environment("app", env)
    project.scenario("T-1", SCENARIO.format(extra=extra))
    return plan_scenario(Path("T-1"))


def test_environment_conditions_are_rendered_and_become_the_containers_variables(project):
    plan = plan_with(project)
    cond = plan.conditions
    assert (cond.timezone, cond.locale, cond.hostname) == (
        "Europe/Berlin", "en_GB.UTF-8", "erp-prod-01")
    assert cond.tmpfs == {"/var/lib/app": 20 * 1024**2, "/var/cache/app": 1024**3}
    # The first-class keys win over the environment's own env: TZ/LANG.
    assert cond.env() == {"TZ": "Europe/Berlin", "LANG": "en_GB.UTF-8",
                          "LC_ALL": "en_GB.UTF-8"}
    assert plan.limits.shm_size == 64 * 1024**2
    assert {n: (u.soft, u.ceiling) for n, u in plan.limits.ulimits.items()} == {
        "nofile": (1024, 1024), "nproc": (100, 200)}


def test_a_scenario_overrides_the_environment_key_by_key(project):
    plan = plan_with(project, """\
timezone: America/New_York
locale: de_DE.UTF-8
tmpfs: {/var/lib/app: 5m}
limits: {memory: 64m, ulimits: {nofile: 256}}
parameters: {host: ignored-by-the-scenario-hostname}
hostname: support-box""")
    cond = plan.conditions
    assert (cond.timezone, cond.locale, cond.hostname) == (
        "America/New_York", "de_DE.UTF-8", "support-box")
    assert cond.tmpfs == {"/var/lib/app": 5 * 1024**2, "/var/cache/app": 1024**3}
    assert plan.limits.memory == 64 * 1024**2 and plan.limits.shm_size == 64 * 1024**2
    assert {n: u.soft for n, u in plan.limits.ulimits.items()} == {"nofile": 256, "nproc": 100}
    shown = plan_dict(plan)["sandbox"]["conditions"]
    assert shown["timezone"] == "America/New_York"
    assert shown["set_in"]["timezone"] == "scenarios/T-1/scenario.yaml:2"
    assert shown["set_in"]["tmpfs /var/cache/app"] == "environments/app.yaml:13"


def test_without_conditions_nothing_is_set(project):
    plan = plan_with(project, env="image: busybox\n")
    assert plan.conditions.env() == {} and plan.conditions.zone_file is None
    assert plan.conditions.locale_to_prepare is None


@pytest.mark.parametrize("value, zone_file", [
    ("Europe/Berlin", "Europe/Berlin"), ("UTC", "UTC"),
    ("CET-1CEST,M3.5.0,M10.5.0/3", None), ("EST5EDT", None)])
def test_posix_rules_need_no_zone_file(project, value, zone_file):
    plan = plan_with(project, f"timezone: {value!r}")
    assert plan.conditions.timezone == value and plan.conditions.zone_file == zone_file


@pytest.mark.parametrize("locale, prepared", [
    ("C", None), ("C.UTF-8", None), ("POSIX", None), ("de_DE", "de_DE"),
    ("sr_RS@latin", "sr_RS@latin")])
def test_c_and_posix_locales_need_nothing(project, locale, prepared):
    plan = plan_with(project, f"locale: {locale}")
    assert plan.conditions.locale_to_prepare == prepared


def test_an_unknown_timezone_from_a_parameter_is_located_with_did_you_mean(project):
    project.environment("app", ENV)
    project.scenario("T-1", SCENARIO.format(extra="parameters: {timezone: Europe/Berln}"))
    with pytest.raises(ConfigError) as excinfo:
        plan_scenario(Path("T-1"))
    line = line_of(ENV, "timezone: \"{{")
    assert errors_of(excinfo) == [
        f"environments/app.yaml:{line}: timezone: unknown timezone 'Europe/Berln' (did you "
        "mean 'Europe/Berlin'?); use an IANA name such as Europe/Berlin or America/New_York"]


BAD = """\
environment: app
locale: german
hostname: "bad_host!"
tmpfs:
  var/lib/app: 20m
  /data: 20q
limits:
  ulimits: {nofiles: 1024}
steps: [{name: s, run: "true"}]
oracle: {any: [{step: s, failed: true}]}
"""


def test_bad_conditions_are_each_located_in_one_line(project):
    project.environment("app", ENV)
    project.scenario("T-1", BAD)
    with pytest.raises(ConfigError) as excinfo:
        plan_scenario(Path("T-1"))
    at = "scenarios/T-1/scenario.yaml"
    assert errors_of(excinfo) == [
        f"{at}:8: limits.ulimits.nofiles: unknown ulimit (did you mean 'nofile'?); Docker "
        "knows core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, "
        "rtprio, rttime, sigpending, stack",
        f"{at}:5: tmpfs.var/lib/app: must be an absolute path, got 'var/lib/app'",
        f"{at}:6: tmpfs./data: expected a size like 64m, 512k or 1g, got '20q'",
        f"{at}:2: locale: 'german' is not a locale name: write language_TERRITORY.CODESET, "
        "e.g. de_DE.UTF-8, or C.UTF-8",
        f"{at}:3: hostname: 'bad_host!' is not a host name: letters, digits and inner "
        "hyphens, labels separated by dots (e.g. erp-prod-01)"]


def test_a_soft_limit_above_the_hard_one_is_refused(project):
    project.environment("app", "image: busybox\nlimits: {ulimits: {nofile: {soft: 9, hard: 4}}}\n")
    project.scenario("T-1", SCENARIO.format(extra=""))
    with pytest.raises(ConfigError) as excinfo:
        plan_scenario(Path("T-1"))
    assert errors_of(excinfo) == ["environments/app.yaml:2: limits.ulimits.nofile.soft: the "
                                  "soft limit 9 is above the hard limit 4"]


def test_data_loaded_into_a_tmpfs_would_vanish_and_is_refused(project):
    project.write("scenarios/T-1/customer/a.csv", "x\n")
    plan_error = None
    try:
        plan_with(project, "data: [{from: customer/a.csv, to: /var/lib/app/a.csv}]")
    except ConfigError as exc:
        plan_error = [str(p) for p in exc.problems]
    assert plan_error == ["scenarios/T-1/scenario.yaml:2: data[0].to: /var/lib/app/a.csv is "
                          "inside the tmpfs /var/lib/app, which starts empty: load the data "
                          "elsewhere and copy it there in a step"]


def test_validate_checks_an_environment_alone(project, cli):
    project.environment("app", ENV.replace("parameters:\n  timezone: Europe/Berlin",
                                           "parameters:\n  timezone: Mars/Olympus"))
    done = cli("validate", "environments/app.yaml")
    assert done.exit_code == 2
    assert "environments/app.yaml:8: timezone: unknown timezone 'Mars/Olympus'" in done.stderr


SERVICE_ENV = """\
image: busybox
services:
  db:
    image: postgres:16
    tmpfs: {/var/lib/postgresql/data: 64m}
    files:
      - {path: /var/lib/postgresql/data/postgresql.auto.conf, content: "x"}
      - {path: /etc/db.conf, content: "y"}
"""


def test_a_service_gets_its_own_small_disk_and_nothing_is_written_under_it(project):
    project.environment("app", SERVICE_ENV)
    project.write("scenarios/T-1/dump.csv", "x\n")
    project.scenario("T-1", SCENARIO.format(
        extra="data: [{from: dump.csv, to: /var/lib/postgresql/data/in.csv, service: db}]"))
    with pytest.raises(ConfigError) as excinfo:
        plan_scenario(Path("T-1"))
    assert errors_of(excinfo) == [
        "environments/app.yaml:7: services.db.files[0].path: /var/lib/postgresql/data/"
        "postgresql.auto.conf is inside service db's tmpfs /var/lib/postgresql/data, which "
        "starts empty: write it elsewhere",
        "scenarios/T-1/scenario.yaml:2: data[0].to: /var/lib/postgresql/data/in.csv is inside "
        "service db's tmpfs /var/lib/postgresql/data, which starts empty: load the data "
        "elsewhere and copy it there in a step"]
    # Written elsewhere, it plans: the service's disk, not the steps' container's.
    project.environment("app", SERVICE_ENV.replace(
        "/var/lib/postgresql/data/postgresql.auto.conf", "/etc/pg.conf"))
    project.scenario("T-1", SCENARIO.format(extra=""))
    plan = plan_scenario(Path("T-1"))
    (db,) = plan.services
    assert db.tmpfs == {"/var/lib/postgresql/data": 64 * 1024**2}
    assert plan.conditions.tmpfs == {}
    assert plan_dict(plan)["services"][0]["tmpfs"] == {"/var/lib/postgresql/data": 64 * 1024**2}


def test_a_bad_service_tmpfs_is_located(project):
    project.environment("app", "image: busybox\nservices:\n  db:\n    image: postgres:16\n"
                        "    tmpfs: {/proc: 1m, data: 2x}\n")
    project.scenario("T-1", SCENARIO.format(extra=""))
    with pytest.raises(ConfigError) as excinfo:
        plan_scenario(Path("T-1"))
    assert errors_of(excinfo) == [
        "environments/app.yaml:5: services.db.tmpfs./proc: cannot replace a system folder "
        "with a tmpfs",
        "environments/app.yaml:5: services.db.tmpfs.data: must be an absolute path, got 'data'",
        "environments/app.yaml:5: services.db.tmpfs.data: expected a size like 64m, 512k or "
        "1g, got '2x'"]
