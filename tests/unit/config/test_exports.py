"""Parameter exports as products write them: postgresql.conf, .properties, my.cnf, .env;
names matched by case and `aliases:`."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from repro.config.parameters import parse_cli_params
from repro.errors import ConfigError
from repro.plan.build import plan_scenario

from ..conftest import line_of

ENV = """\
image: busybox
parameters:
  datestyle: {default: "ISO, MDY", aliases: [date_style]}
  shared_buffers: 128MB
  max_connections: 100
  log_line_prefix: ""
  url: ""
  greeting: ""
  skip_name_resolve: false
"""
STEPS = "steps: [{run: app}]\noracle: {any: [{step: step-1, failed: true}]}\n"


def plan(project, export: str, text: str, env: str = ENV, head: str = ""):
    project.environment("app", env)
    project.write(f"scenarios/T-1/customer/{export}", text)
    project.scenario("T-1", f"environment: app\nparameters_from: [customer/{export}]\n"
                     + dedent(head) + STEPS)
    return plan_scenario(Path("T-1"), parse_cli_params([]))


def refused(project, export: str, text: str, env: str = ENV, head: str = "") -> list[str]:
    with pytest.raises(ConfigError) as info:
        plan(project, export, text, env, head)
    return info.value.lines()


PGCONF = """\
# postgresql.conf as the customer's server has it
DateStyle = 'iso, dmy'          # changed from ISO, MDY
shared_buffers 2GB
max_connections=250
log_line_prefix = '%m [%p] it''s \\'quoted\\' '   # after the value: a comment
max_connections = 300           # a later line wins, as in the server
"""


def test_postgresql_conf_values_are_what_the_server_reads(project):
    done = plan(project, "postgresql.conf", PGCONF)
    assert {k: done.parameters[k] for k in ("datestyle", "shared_buffers", "max_connections",
                                            "log_line_prefix")} == {
        "datestyle": "iso, dmy", "shared_buffers": "2GB", "max_connections": 300,
        "log_line_prefix": "%m [%p] it's 'quoted' "}
    origins = done.parameter_origins
    shown = "scenarios/T-1/customer/postgresql.conf"
    assert origins["datestyle"] == f"{shown}:{line_of(PGCONF, 'DateStyle')}"
    assert origins["shared_buffers"] == f"{shown}:{line_of(PGCONF, 'shared_buffers')}"
    assert origins["max_connections"] == f"{shown}:{line_of(PGCONF, 'max_connections = 300')}"


@pytest.mark.parametrize("text, line, message", [
    ("max_connections = 10\ninclude 'other.conf'\n", 2,
     "`include` is not followed: add the included file to `parameters_from` instead"),
    ("\ndatestyle = 'iso\n", 2, "unterminated quoted value: close it with '"),
    ("greeting = hello world\n", 1,
     "greeting: unexpected text after the value; quote a value with spaces ('...')"),
    ("# ok\n= 5\n", 2, "expected `name = value`"),
    ("shared_buffers\n", 1, "expected `name = value`"),
])
def test_bad_postgresql_conf_lines_are_named(project, text, line, message):
    assert refused(project, "pg.conf", text) == [
        f"scenarios/T-1/customer/pg.conf:{line}: {message}"]


PROPERTIES = """\
# exported by the admin console
! another comment style
url=jdbc:postgresql://db:5432/app?ssl\\=true
greeting : Gr\\u00fc\\u00dfe, \\
           world
max_connections   42
"""


def test_java_properties_with_continuations_escapes_and_separators(project):
    done = plan(project, "app.properties", PROPERTIES)
    assert done.parameters["url"] == "jdbc:postgresql://db:5432/app?ssl=true"
    assert done.parameters["greeting"] == "Grüße, world"
    assert done.parameters["max_connections"] == 42
    shown = "scenarios/T-1/customer/app.properties"
    assert done.parameter_origins["greeting"] == f"{shown}:{line_of(PROPERTIES, 'greeting')}"
    assert done.parameter_origins["max_connections"] == \
        f"{shown}:{line_of(PROPERTIES, 'max_connections')}"
    assert refused(project, "app.properties", "greeting=\\u00zz\n") == [
        "scenarios/T-1/customer/app.properties:1: malformed \\uXXXX escape"]


MYCNF = """\
[client]
max_connections = 500

[mysqld]
# the customer's server
max_connections = "500"
skip_name_resolve
greeting = 'hi there'
"""


def test_my_cnf_sections_bare_keys_and_quotes(project):
    text = MYCNF
    done = plan(project, "my.cnf", text)
    assert done.parameters["max_connections"] == 500
    assert done.parameters["skip_name_resolve"] is True
    assert done.parameters["greeting"] == "hi there"
    assert done.parameter_origins["skip_name_resolve"] == \
        f"scenarios/T-1/customer/my.cnf:{line_of(text, 'skip_name_resolve')}"
    # a .conf with [sections] is read like my.cnf, not like postgresql.conf
    assert plan(project, "server.conf", text).parameters["max_connections"] == 500


def test_my_cnf_conflicts_and_includes_are_refused_with_their_line(project):
    text = "[client]\nmax_connections = 1\n[mysqld]\nmax_connections = 2\n"
    assert refused(project, "my.cnf", text) == [
        "scenarios/T-1/customer/my.cnf:4: max_connections: set differently in [client] and "
        "[mysqld]; pick one with `section:`"]
    head = "parameters_from: [{path: customer/my.cnf, section: mysqld}]\n"
    project.environment("app", ENV)
    project.scenario("T-1", "environment: app\n" + head + STEPS)
    assert plan_scenario(Path("T-1"), {}).parameters["max_connections"] == 2
    assert refused(project, "my.cnf", "[mysqld]\n!includedir /etc/mysql/conf.d/\n") == [
        "scenarios/T-1/customer/my.cnf:2: `!includedir` is not followed: add the included "
        "file to `parameters_from` instead"]


@pytest.mark.parametrize("text, expected", [
    ("greeting='hello # world'  # why\n", "hello # world"),
    ('greeting="say \\"hi\\""\n', 'say "hi"'),
    ("export greeting=plain # comment\n", "plain"),
])
def test_env_quotes_are_not_part_of_the_value(project, text, expected):
    assert plan(project, "app.env", text).parameters["greeting"] == expected


def test_env_unterminated_quote_is_refused_with_its_line(project):
    assert refused(project, "app.env", "url=x\ngreeting='hello\n") == [
        "scenarios/T-1/customer/app.env:2: greeting: unterminated quoted value"]


def test_names_match_by_alias_and_by_case_when_only_one_parameter_fits(project):
    done = plan(project, "pg.conf", "date_style = 'sql'\nMAX_Connections = 7\n")
    assert (done.parameters["datestyle"], done.parameters["max_connections"]) == ("sql", 7)
    assert done.parameter_origins["max_connections"] == "scenarios/T-1/customer/pg.conf:2"
    env = ENV + "  Mode: fast\n  mode: slow\n"
    assert refused(project, "pg.conf", "max_connections = 1\nMODE = x\n", env=env) == [
        "scenarios/T-1/customer/pg.conf:2: MODE: could be parameter Mode or mode; add it to "
        "the `aliases:` of the one it sets"]
    # inline values and --param keep exact names
    assert refused(project, "pg.conf", "", head="parameters: {DATESTYLE: x}\n")[0].endswith(
        "DATESTYLE: unknown parameter (did you mean 'datestyle'?)")
