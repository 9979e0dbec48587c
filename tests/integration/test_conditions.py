"""Conditions of the customer's machine on a real engine: timezone (with and without the
image's own tzdata), locale (compiled, or refused in one line), a small disk filling up,
ulimits, shared memory, hostname, and a step the kernel kills for memory."""

from __future__ import annotations

import json
import subprocess

from conftest import Project

# 2024-01-15 12:00 UTC (winter) and 2024-07-15 12:00 UTC (summer).
WINTER, SUMMER = 1705320000, 1721044800

TZ_ENV = """\
    image: {image}
    parameters:
      timezone: UTC
    timezone: "{{{{ timezone }}}}"
    services:
      clock:
        image: repro-base/busybox
        command: [sh, -c, "mkdir -p /www && date -d @{winter} +%Z > /www/tz
                           && httpd -f -p 8080 -h /www"]
        ready: {{tcp: 8080, timeout: 20s}}
    """


def _tz_scenario(project: Project, env: str) -> str:
    return project.scenario("TZ", f"""\
        environment: {env}
        parameters: {{timezone: Europe/Berlin}}
        steps:
          - name: zone
            run: date -d @{WINTER} '+%Z %H:%M'; date -d @{SUMMER} '+%Z %H:%M'; echo "TZ=$TZ"
          - name: service
            run: wget -qO- http://clock:8080/tz
        oracle: {{any: [{{step: zone, failed: true}}]}}
        expect: fixed
        """)


def test_timezone_in_an_image_without_tzdata_and_in_a_service(project: Project) -> None:
    # busybox has no /usr/share/zoneinfo: glibc alone would silently answer UTC.
    project.env("bbtz", TZ_ENV.format(image="repro-base/busybox", winter=WINTER))
    code, result, stderr = project.run_json(_tz_scenario(project, "bbtz"))
    assert code == 0, stderr
    record = project.record(result)
    steps = {s["name"]: s for s in record["steps"]}
    assert steps["zone"]["stdout"] == "CET 13:00\nCEST 14:00\nTZ=Europe/Berlin\n"
    assert steps["service"]["stdout"] == "CET\n"
    conditions = record["sandbox"]["conditions"]
    assert conditions["timezone"] == "Europe/Berlin"
    assert conditions["zone_file"] == {"sandbox": "repro", "clock": "repro"}


def test_timezone_in_a_debian_image_uses_its_own_tzdata(project: Project) -> None:
    project.env("debtz", """\
        image: repro-base/debian:bookworm
        parameters:
          timezone: UTC
        env: {TZ: Asia/Tokyo}
        timezone: "{{ timezone }}"
        """)
    sid = project.scenario("TZD", f"""\
        environment: debtz
        parameters: {{timezone: Europe/Berlin}}
        steps:
          - name: zone
            run: date -d @{WINTER} '+%Z %H:%M'; date -d @{SUMMER} '+%Z %H:%M'
        oracle: {{any: [{{step: zone, failed: true}}]}}
        expect: fixed
        """)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = project.record(result)
    assert record["steps"][0]["stdout"] == "CET 13:00\nCEST 14:00\n"  # not Tokyo: the key wins
    assert record["sandbox"]["conditions"]["zone_file"] == {"sandbox": "image"}


def test_an_unknown_timezone_stops_before_anything_starts(project: Project) -> None:
    sid = project.scenario("TZX", """\
        environment: bb
        timezone: Europe/Berln
        steps: [{name: s, run: "true"}]
        oracle: {any: [{step: s, failed: true}]}
        """)
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"repro: error: scenarios/{sid}/scenario.yaml:2: timezone: unknown timezone "
        "'Europe/Berln' (did you mean 'Europe/Berlin'?); use an IANA name such as "
        "Europe/Berlin or America/New_York"]
    assert not (project.root / ".repro").exists()  # no run began


LOCALE_STEP = """\
steps:
  - name: day
    run: echo "$LANG $LC_ALL"; date -d @1705320000 +%A
oracle: {any: [{step: day, failed: true}]}
expect: fixed
"""


LOCALES_IMAGE = {"locales-image/Dockerfile": (
    "FROM repro-base/debian:bookworm\n"
    "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
    "--no-install-recommends locales && apt-get clean && rm -rf /var/lib/apt/lists/*\n")}


def test_a_locale_the_image_lacks_is_compiled_into_a_cached_image_for_steps_and_services(
        project: Project) -> None:
    # The service prints the weekday in the run's locale; it is ready only if German.
    project.env("withlocales", """\
        image: {build: {context: locales-image}}
        services:
          day:
            image: {build: {context: locales-image}}
            command: ["sh", "-c", "date -d @1705320000 +%A; exec sleep 600"]
            ready: {log: "^Montag$", timeout: 30s}
        """, files=LOCALES_IMAGE)
    project.env("alone", "image: {build: {context: locales-image}}\n", files=LOCALES_IMAGE)
    sid = project.scenario("LOC", "environment: withlocales\nlocale: de_DE.UTF-8\n"
                           + LOCALE_STEP)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = project.record(result)
    assert record["steps"][0]["stdout"] == "de_DE.UTF-8 de_DE.UTF-8\nMontag\n"
    conditions = record["sandbox"]["conditions"]
    assert conditions["locale_prepared"] == "generated"
    assert conditions["locale_images"]["sandbox"] == conditions["locale_images"]["day"]
    assert conditions["locale_prepared_services"] == {"day": "generated"}
    # Made once per image and locale (the service shares the steps' image): drop it, and
    # the next run makes it again, once; the one after finds it.
    made = conditions["locale_images"]["sandbox"]
    tags = json.loads(subprocess.run(["docker", "image", "inspect", made], capture_output=True,
                                     text=True, check=True).stdout)[0]["RepoTags"]
    assert [t.split(":")[0] for t in tags] == ["repro-changed"]
    # A cached image like the environments' own: `repro gc --images` takes it (a dry run
    # here: a real one would take other tests' images from under them).
    listed = project.repro("gc", "--images", "--dry-run")
    assert f"would remove image {tags[0]}" in listed.stdout, listed.stdout
    subprocess.run(["docker", "rmi", "-f", made], capture_output=True, check=True)
    sid = project.scenario("LOC2", "environment: alone\nlocale: de_DE.UTF-8\n" + LOCALE_STEP)
    done = project.repro("run", f"scenarios/{sid}")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("preparing the locale de_DE.UTF-8 in image") == 1, done.stderr
    # From the cache: nothing compiled, and a one-step run can be the container's own
    # process again.
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = project.record(result)
    assert record["steps"][0]["stdout"] == "de_DE.UTF-8 de_DE.UTF-8\nMontag\n"
    assert record["sandbox"]["conditions"]["locale_prepared"] == "generated"
    assert "preparing the locale" not in stderr
    assert record["sandbox"]["one_shot"] is True


def test_an_image_with_the_locale_keeps_its_own_and_is_not_checked_twice(project: Project
                                                                         ) -> None:
    files = {**LOCALES_IMAGE, "has/Dockerfile": (
        "FROM repro-base/debian:bookworm\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        "--no-install-recommends locales && apt-get clean && rm -rf /var/lib/apt/lists/* "
        "&& localedef -i de_DE -f UTF-8 de_DE.UTF-8\n")}
    project.env("has", "image: {build: {context: has}}\n", files=files)
    sid = project.scenario("HAS", "environment: has\nlocale: de_DE.UTF-8\n" + LOCALE_STEP)
    for attempt in range(2):
        done = project.repro("run", f"scenarios/{sid}", "--json")
        assert done.returncode == 0, done.stderr
        record = project.record(json.loads(done.stdout))
        assert record["sandbox"]["conditions"]["locale_prepared"] == "image"
        assert "locale_images" not in record["sandbox"]["conditions"]  # ran on its own image
        assert record["steps"][0]["stdout"] == "de_DE.UTF-8 de_DE.UTF-8\nMontag\n"
        if attempt:  # the answer is remembered: not asked again
            assert "preparing the locale" not in done.stderr, done.stderr
    tags = json.loads(subprocess.run(["docker", "image", "inspect", record["image"]["id"]],
                                     capture_output=True, text=True, check=True
                                     ).stdout)[0]["RepoTags"]
    assert not [t for t in tags if t.startswith("repro-changed")]  # no name put on it


def test_a_locale_the_image_cannot_provide_stops_the_run_in_one_line(project: Project
                                                                     ) -> None:
    project.env("deb", "image: repro-base/debian:bookworm\n")
    for env, lacks in (("bb", "it has no localedef"),
                       ("deb", "it has no locale sources in /usr/share/i18n")):
        sid = project.scenario(f"NOLOC-{env}", f"environment: {env}\nlocale: de_DE.UTF-8\n"
                               + LOCALE_STEP)
        for _ in range(2):  # the second run has the image's answer from the cache
            done = project.repro("run", f"scenarios/{sid}")
            assert done.returncode == 2, done.stderr
        assert "preparing the locale" not in done.stderr, done.stderr
        error = [line for line in done.stderr.splitlines() if "error:" in line]
        assert error == [
            f"repro: error: scenarios/{sid}/scenario.yaml:2: locale: the image cannot provide "
            f"the locale de_DE.UTF-8: {lacks} (Debian/Ubuntu: install the package `locales` "
            "in the image)"]


def test_the_customers_small_machine(project: Project) -> None:
    project.env("small", """\
        image: repro-base/busybox
        hostname: erp-prod-01
        tmpfs: {/var/lib/app: 1m}
        limits:
          memory: 64m
          shm_size: 16m
          ulimits: {nofile: {soft: 1024, hard: 2048}}
        """)
    sid = project.scenario("SMALL", """\
        environment: small
        limits: {ulimits: {nofile: 256}}
        steps:
          - name: machine
            run: hostname; ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1
          - name: disk
            run: dd if=/dev/zero of=/var/lib/app/data bs=1k count=2048
            stop_on_failure: false
          - name: import
            run: dd if=/dev/zero of=/dev/null bs=200M count=1
            stop_on_failure: false
          - name: killed
            run: kill -9 $$
        oracle:
          all:
            - {step: disk, stderr: "No space left on device"}
            - {step: import, oom_killed: true}
            - {step: killed, exit_code: 137}
            - {step: killed, oom_killed: false}
        """)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = project.record(result)
    steps = {s["name"]: s for s in record["steps"]}
    assert steps["machine"]["stdout"].split()[:3] == ["erp-prod-01", "256", "256"]
    assert steps["machine"]["stdout"].split()[4] == "16384"  # KiB of /dev/shm
    assert steps["disk"]["status"] == "failed"
    assert (steps["import"]["status"], steps["import"]["exit_code"]) == ("oom_killed", 137)
    assert (steps["killed"]["status"], steps["killed"]["exit_code"]) == ("failed", 137)
    assert [c["fired"] for c in record["oracle"]["conditions"]] == [True] * 4
    done = project.repro("run", f"scenarios/{sid}")
    assert "OOM     import" in done.stdout
    assert "killed by the kernel: out of memory within limits.memory (64 MiB)" in done.stdout


def test_a_service_on_the_customers_full_disk(project: Project) -> None:
    # The service writes 2 MB to its 1 MB disk at start: it is ready only once its own
    # log says the disk is full (without the tmpfs the write succeeds and it never is).
    project.env("fulldb", """\
        image: repro-base/busybox
        services:
          db:
            image: repro-base/busybox
            tmpfs: {/var/lib/db: 1m}
            command: "dd if=/dev/zero of=/var/lib/db/t bs=1k count=2048; exec sleep 600"
            ready: {log: "No space left on device", timeout: 20s}
        """)
    sid = project.scenario("FULLDB", """\
        environment: fulldb
        steps:
          - {name: here, run: "df -k /var/lib/db 2>&1 | tail -1; test ! -e /var/lib/db"}
        oracle: {any: [{step: here, failed: true}]}
        expect: fixed
        """)
    code, result, stderr = project.run_json(sid)
    assert code == 0, stderr
    record = project.record(result)
    assert record["status"] == "complete"
    assert record["steps"][0]["status"] == "ok"  # the steps' container has no such disk
    assert project.leftovers() == []
