"""Converting a docker-compose file to a repro environment (repro.config.compose_import)."""

from __future__ import annotations

from textwrap import dedent

import pytest
import yaml

from repro.config import compose_import as compose
from repro.errors import ConfigError

from ..conftest import errors_of

# ---- repro.config.compose_import.convert ----------------------------------------------


def convert(project, text: str, main: str | None = None, folder: str = "shop"):
    path = project.write(f"{folder}/docker-compose.yml", text)
    return compose.convert(path, project.root / "environments", main)


@pytest.mark.parametrize("check, ready", [
    ({"test": ["CMD", "pg_isready", "-U", "app"], "interval": "1s", "retries": 10},
     {"command": ["pg_isready", "-U", "app"], "interval": 1.0, "timeout": 30}),
    ({"test": ["CMD-SHELL", "wget -qO- http://127.0.0.1/ || exit 1"], "interval": "10s",
      "retries": 5},
     {"command": "wget -qO- http://127.0.0.1/ || exit 1", "interval": 10.0, "timeout": 60}),
    ({"test": "curl -f http://localhost/health", "interval": "1m30s", "retries": 2},
     {"command": "curl -f http://localhost/health", "interval": 90.0, "timeout": 270}),
    ({"test": ["CMD", "true"]},  # compose defaults: every 5s, 3 retries -> at least 30s
     {"command": ["true"], "interval": 5.0, "timeout": 30}),
    ({"test": ["CMD", "true"], "interval": "500ms", "retries": 3},
     {"command": ["true"], "interval": 0.5, "timeout": 30}),
])
def test_healthchecks_become_readiness_checks(project, check, ready):
    text = yaml.safe_dump({"services": {"app": {"build": "."},
                                        "db": {"image": "postgres", "healthcheck": check}}})
    doc, notes = convert(project, text)
    assert doc["services"]["db"]["ready"] == ready
    assert notes == []


def test_healthchecks_that_cannot_be_converted(project):
    text = yaml.safe_dump({"services": {
        "app": {"build": "."},
        "off": {"image": "x", "healthcheck": {"test": ["CMD", "true"], "disable": True}},
        "none": {"image": "x", "healthcheck": {"test": ["NONE"]}},
    }})
    doc, notes = convert(project, text)
    assert "ready" not in doc["services"]["off"] and "ready" not in doc["services"]["none"]
    assert notes == ["none: healthcheck ['NONE'] not understood; add `ready:` by hand"]


def test_environment_as_list_and_as_mapping(project):
    doc, _ = convert(project, dedent("""\
        services:
          app:
            build: .
            environment: ["A=1", "URL=postgres://db/x?a=b", "EMPTY="]
          db:
            image: postgres
            environment: {POSTGRES_DB: app, PORT: 5432, EMPTY: ""}
        """))
    assert doc["env"] == {"A": "1", "URL": "postgres://db/x?a=b", "EMPTY": ""}
    assert doc["services"]["db"]["env"] == {"POSTGRES_DB": "app", "PORT": "5432",
                                            "EMPTY": ""}


def test_a_boolean_environment_value_keeps_compose_spelling(project):
    # Compose passes `DEBUG: true` as the string "true" (as repro itself reads `true`).
    doc, _ = convert(project, "services:\n  app:\n    build: .\n"
                              "    environment: {DEBUG: true, TRACE: false}\n")
    assert doc["env"] == {"DEBUG": "true", "TRACE": "false"}


def test_build_as_string_and_as_mapping_with_args(project):
    doc, notes = convert(project, dedent("""\
        services:
          app:
            build: ./app
            working_dir: /srv
            user: "1000"
          api:
            build:
              context: ./api
              dockerfile: Dockerfile.prod
              args: ["VERSION=1.2", "FLAVOUR=slim"]
          worker:
            build:
              context: ../shared/worker
              args: {RELEASE: 3}
          db:
            image: postgres:15
        """))
    assert doc["description"] == "imported from shop/docker-compose.yml"
    assert doc["image"] == {"build": {"context": "../shop/app"}}
    assert (doc["workdir"], doc["user"]) == ("/srv", "1000")
    assert doc["services"] == {
        "api": {"image": {"build": {"context": "../shop/api", "dockerfile": "Dockerfile.prod",
                                    "args": {"VERSION": "1.2", "FLAVOUR": "slim"}}}},
        "worker": {"image": {"build": {"context": "../shared/worker",
                                       "args": {"RELEASE": "3"}}}},
        "db": {"image": "postgres:15"},
    }
    assert notes == []


def test_single_file_bind_mounts_become_files_relative_to_the_environments(project):
    project.write("shop/conf/app.ini", "[app]\n")
    project.write("shop/conf/products.json", "[]\n")
    project.write("shop/conf/data/a.csv", "a\n")
    doc, notes = convert(project, dedent("""\
        services:
          app:
            build: .
            volumes:
              - ./conf/app.ini:/etc/app/app.ini:ro
          web:
            image: nginx
            volumes:
              - type: bind
                source: ./conf/products.json
                target: /www/products.json
              - ./conf/data:/srv/data
              - cache:/var/cache/nginx
              - ./conf/missing.txt:/etc/missing.txt
        volumes:
          cache: {}
        """))
    assert doc["files"] == [{"path": "/etc/app/app.ini", "template": "../shop/conf/app.ini"}]
    assert doc["services"]["web"]["files"] == [
        {"path": "/www/products.json", "template": "../shop/conf/products.json"}]
    tail = ("not converted (only single files become `files:`; load data with the "
            "scenario's `data:` or `load:`)")
    assert notes == [f"web: volume './conf/data:/srv/data' {tail}",
                     f"web: volume 'cache:/var/cache/nginx' {tail}",
                     f"web: volume './conf/missing.txt:/etc/missing.txt' {tail}"]


def test_ports_networks_and_entrypoint_are_listed_as_not_converted(project):
    doc, notes = convert(project, dedent("""\
        services:
          app:
            build: .
            command: ["serve", "--port", "80"]
            ports: ["80:80"]
          db:
            image: postgres
            command: postgres -c fsync=off
            entrypoint: /custom-entrypoint.sh
            networks: [back]
            restart: always
        networks:
          back: {}
        """))
    assert "command" not in doc
    by_name = " (services reach each other by name on the run's network)"
    assert notes == [
        "app: command not used: the scenario's steps run in this container",
        f"app: `ports` not converted{by_name}",
        "db: `entrypoint` not converted",
        f"db: `networks` not converted{by_name}",
        "db: `restart` not converted",
    ]


def test_a_command_keeps_compose_semantics(project):
    # Compose splits a string command like a shell would and runs it without a shell (an
    # image's ENTRYPOINT gets `postgres -c fsync=off`); a repro string runs with `sh -c`.
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          db:
            image: postgres
            command: postgres -c 'shared_buffers=64MB' -c fsync=off
          web:
            image: busybox
            command: ["httpd", "-f", "-p", "8080"]
        """))
    assert doc["services"]["db"]["command"] == ["postgres", "-c", "shared_buffers=64MB", "-c",
                                                "fsync=off"]
    assert doc["services"]["web"]["command"] == ["httpd", "-f", "-p", "8080"]


def test_depends_on_as_list_and_as_mapping(project):
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          db: {image: postgres}
          cache: {image: redis}
          api:
            image: api
            depends_on: [db, cache]
          worker:
            image: worker
            depends_on:
              db: {condition: service_healthy}
        """))
    assert doc["services"]["api"]["depends_on"] == ["db", "cache"]
    assert doc["services"]["worker"]["depends_on"] == ["db"]


def test_main_defaults_to_the_first_service_with_a_build(project):
    text = dedent("""\
        services:
          db: {image: postgres}
          shop: {build: ./shop}
          admin: {build: ./admin}
        """)
    doc, _ = convert(project, text)
    assert doc["image"] == {"build": {"context": "../shop/shop"}}
    assert list(doc["services"]) == ["db", "admin"]
    doc, _ = convert(project, text, main="admin")
    assert doc["image"] == {"build": {"context": "../shop/admin"}}
    assert list(doc["services"]) == ["db", "shop"]
    doc, _ = convert(project, text, main="db")
    assert doc["image"] == "postgres"
    assert list(doc["services"]) == ["shop", "admin"]


def test_main_defaults_to_the_first_service_without_any_build(project):
    doc, _ = convert(project, "services:\n  web: {image: nginx}\n  db: {image: postgres}\n")
    assert doc["image"] == "nginx" and list(doc["services"]) == ["db"]


def test_an_unknown_main_or_no_services_is_an_error(project):
    with pytest.raises(ConfigError) as exc:
        convert(project, "services:\n  web: {image: nginx}\n  db: {image: pg}\n", main="api")
    assert errors_of(exc) == ["shop/docker-compose.yml: --main api: no such service "
                              "(services: web, db)"]
    with pytest.raises(ConfigError) as exc:
        convert(project, "version: '3'\nservices: {}\n")
    assert errors_of(exc) == ["shop/docker-compose.yml:2: services: no services to import"]


def test_a_dependency_on_the_main_service_converts_to_a_valid_environment(project):
    # The main service is the steps' container, which starts with the services anyway.
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          db: {image: postgres}
          proxy:
            image: nginx
            depends_on: [app, db]
        """))
    deps = doc["services"]["proxy"].get("depends_on", [])
    assert "app" not in deps and "db" in deps


def test_renamed_services_keep_their_dependencies(project):
    # `my.db` is not a valid service name and becomes `my-db`: so must the references.
    doc, _ = convert(project, dedent("""\
        services:
          app: {build: .}
          my.db: {image: postgres}
          api:
            image: api
            depends_on: [my.db]
        """))
    assert list(doc["services"]) == ["my-db", "api"]
    assert doc["services"]["api"]["depends_on"] == ["my-db"]


def test_service_keys_with_no_equivalent_are_listed_not_dropped(project):
    _, notes = convert(project, dedent("""\
        services:
          app: {build: .}
          db:
            image: postgres
            user: postgres
            working_dir: /var/lib/postgresql
            mem_limit: 512m
            tmpfs: [/run]
        """))
    for key in ("user", "working_dir", "mem_limit", "tmpfs"):
        assert any(note.startswith("db: ") and key in note for note in notes), (key, notes)
