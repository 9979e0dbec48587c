"""Parameter layers: defaults < customer files (YAML/JSON/INI/.env) < inline < --param."""

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
  host: localhost
  port: 8080
  debug: false
  ratio: 0.5
  mode: {default: fast, choices: [fast, slow]}
  user: admin
  region: {description: where the customer runs}
"""

STEPS = "steps: [{run: app}]\noracle: {any: [{step: step-1, failed: true}]}\n"


def scenario_text(head: str = "") -> str:
    return "environment: app\n" + dedent(head) + STEPS


def resolve(project, head: str = "", cli: tuple[str, ...] = (), files: dict | None = None):
    project.environment("app", ENV)
    for rel, content in (files or {}).items():
        project.write(f"scenarios/T-1/{rel}", content)
    project.scenario("T-1", scenario_text(head))
    return plan_scenario(Path("T-1"), parse_cli_params(list(cli))).parameters


def problems(project, head: str = "", cli: tuple[str, ...] = (), files: dict | None = None):
    with pytest.raises(ConfigError) as info:
        resolve(project, head, cli, files)
    return info.value.lines()


def test_layers_apply_in_precedence_order_with_coercion(project):
    files = {
        "export/customer.ini": "[db]\nhost = db.internal\nport = 5432\n"
                               "[app]\ndebug = yes\nmode = slow\n",
        "export/customer.json": '{"port": 6543, "region": "eu-west"}',
        "export/.env": "ratio=0.75\nregion=us-east\n",
        "export/customer.yaml": "user: ops\n",
    }
    head = """\
        parameters_from:
          - export/customer.ini
          - export/customer.json
          - export/.env
          - export/customer.yaml
        parameters:
          port: 7000
          mode: fast
        """
    values = resolve(project, head, cli=("port=7001",), files=files)
    assert values == {
        "host": "db.internal",  # only the INI sets it
        "port": 7001,           # ini < json < inline < --param, coerced to int
        "debug": True,          # INI "yes" as the default's type
        "ratio": 0.75,          # .env text as a float
        "mode": "fast",         # inline wins over the INI file
        "user": "ops",          # YAML file over the default
        "region": "us-east",    # a later file wins over an earlier one
    }
    assert type(values["port"]) is int and type(values["debug"]) is bool


def test_ini_sections_conflict_unless_one_is_chosen(project):
    ini = "[prod]\nhost = prod.db\n\n[staging]\nhost = staging.db\n"
    assert problems(project, "parameters_from: [customer.ini]\nparameters: {region: eu}\n",
                    files={"customer.ini": ini}) == [
        "scenarios/T-1/customer.ini:5: host: set differently in [prod] and [staging]; "
        "pick one with `section:`"]
    head = "parameters_from: [{path: customer.ini, section: staging}]\nparameters: {region: eu}\n"
    assert resolve(project, head, files={"customer.ini": ini})["host"] == "staging.db"
    head = "parameters_from: [{path: customer.ini, section: qa}]\nparameters: {region: eu}\n"
    assert problems(project, head, files={"customer.ini": ini}) == [
        "scenarios/T-1/customer.ini: no section [qa] (sections: prod, staging)"]


def test_ini_without_section_headers_is_read_as_key_values(project):
    head = "parameters_from: [app.conf]\n"
    values = resolve(project, head, files={"app.conf": "# exported\nregion = ap\nport = 9000\n"})
    assert (values["region"], values["port"]) == ("ap", 9000)


@pytest.mark.parametrize("text, line", [
    pytest.param("[s]\nregion = a\nregion = b\n", 3, id="duplicate-key-in-section"),
    pytest.param("region = a\nregion = b\n", 2, id="duplicate-key-without-section"),
    pytest.param("[s]\nregion = a\nthis is not an option\n", 3, id="line-without-separator"),
])
def test_malformed_ini_is_a_config_error_with_its_line(project, text, line):
    reported = problems(project, "parameters_from: [customer.ini]\n",
                        files={"customer.ini": text})
    assert len(reported) == 1
    assert reported[0].startswith(f"scenarios/T-1/customer.ini:{line}: invalid INI: ")


def test_env_files_are_read_like_shell_exports(project):
    env_file = (b"\xef\xbb\xbf# exported by support-bundle\n\n"
                b"export region=eu-central\n"
                b"host='db.example.com'\n"
                b'user="ops team"\n'
                b"mode=slow\n")
    values = resolve(project, "parameters_from: [.env]\n", files={".env": env_file})
    assert (values["region"], values["host"], values["user"], values["mode"]) == \
        ("eu-central", "db.example.com", "ops team", "slow")
    # `*.env` is recognised too, and values keep any `=` after the first one
    values = resolve(project, "parameters_from: [prod.env]\n",
                     files={"prod.env": "region=a=b\n"})
    assert values["region"] == "a=b"


def test_env_file_inline_comment_is_not_part_of_the_value(project):
    """Docker Compose and python-dotenv drop ` # comment` after an unquoted value."""
    values = resolve(project, "parameters_from: [.env]\n",
                     files={".env": "region=eu-west # primary site\nhost='a # b'\n"})
    assert (values["region"], values["host"]) == ("eu-west", "a # b")


@pytest.mark.parametrize("listed, written, content, expected", [
    (".env", ".env", "region=eu\nnot a pair\n",
     "scenarios/T-1/.env:2: expected KEY=VALUE"),
    ("c.json", "c.json", '{"region": "eu",\n "port": }\n',
     "scenarios/T-1/c.json:2: invalid JSON: Expecting value"),
    ("c.json", "c.json", '["eu"]',
     "scenarios/T-1/c.json:1: expected a mapping of parameter names to values (name: value)"),
    ("c.yaml", "c.yaml", "region: eu\nport: [1, 2]\n",
     "scenarios/T-1/c.yaml:2: port: parameter values must be strings, numbers or booleans "
     "(not a list, a mapping or null)"),
    ("c.txt", "c.txt", "region=eu\n",
     "scenarios/T-1/c.txt: cannot tell the format from the file name; "
     "add `format: yaml|json|ini|env|conf|properties|cnf`"),
    ("c.json", "other.json", "{}", "scenarios/T-1/scenario.yaml:2: parameters_from[0]: c.json "
     "not found (did you mean 'other.json'?)"),
])
def test_unreadable_parameter_files_are_reported(project, listed, written, content, expected):
    assert problems(project, f"parameters_from: ['{listed}']\n",
                    files={written: content}) == [expected]


def test_explicit_format_and_section_for_structured_files(project):
    files = {"params.txt": "region=eu\n", "bundle.json": '{"db": {"host": "db1"}, "x": [1]}'}
    head = """\
        parameters_from:
          - {path: params.txt, format: env}
          - {path: bundle.json, section: db}
        """
    values = resolve(project, head, files=files)
    assert (values["region"], values["host"]) == ("eu", "db1")


def test_unknown_parameters_from_every_layer_are_reported_at_once(project):
    text = scenario_text("""\
        parameters_from: [customer.json]
        parameters:
          region: eu
          debgu: true
        """)
    export = '{\n  "host": "db1",\n  "prot": 1\n}\n'
    project.environment("app", ENV)
    project.write("scenarios/T-1/customer.json", export)
    project.scenario("T-1", text)
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path("T-1"), parse_cli_params(["colour=red"]))
    from_file, inline, cli = info.value.lines()
    assert from_file == f"scenarios/T-1/customer.json:{line_of(export, 'prot')}: prot: " \
                        "unknown parameter (did you mean 'port'?)"
    assert inline == f"scenarios/T-1/scenario.yaml:{line_of(text, 'debgu')}: parameters.debgu: " \
                     "unknown parameter (did you mean 'debug'?)"
    assert cli.startswith("--param: colour: unknown parameter; declare it under `parameters:` "
                          "in environments/app.yaml")


def test_required_parameter_without_value_is_reported(project):
    text = scenario_text("parameters:\n  user: ops\n")
    assert problems(project, "parameters:\n  user: ops\n") == [
        f"scenarios/T-1/scenario.yaml:{line_of(text, 'parameters:')}: parameters: parameter "
        "'region' is required by environments/app.yaml; set it here or with "
        "--param region=VALUE"]
    assert resolve(project, "", cli=("region=eu",))["region"] == "eu"


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("On", True), ("1", True), ("TRUE", True),
    ("no", False), ("off", False), ("0", False), (" false ", False),
])
def test_boolean_words_become_booleans(project, text, expected):
    assert resolve(project, cli=("region=eu", f"debug={text}"))["debug"] is expected


@pytest.mark.parametrize("pair, expected", [
    ("debug=maybe", "--param: debug: expected true or false, got 'maybe'"),
    ("ratio=half", "--param: ratio: expected a number, got 'half'"),
    ("mode=turbo", "--param: mode: 'turbo' is not one of fast, slow"),
])
def test_values_that_do_not_fit_the_declaration_are_refused(project, pair, expected):
    assert problems(project, cli=("region=eu", pair)) == [expected]


@pytest.mark.parametrize("inline", ["port: true", "debug: 7", "port: 1.5"])
def test_inline_value_of_the_wrong_type_is_refused(project, inline):
    """Values are coerced to the type of the default; YAML values of another type can't be."""
    text = scenario_text(f"parameters:\n  region: eu\n  {inline}\n")
    key = inline.split(":")[0]
    reported = problems(project, f"parameters:\n  region: eu\n  {inline}\n")
    assert len(reported) == 1
    assert reported[0].startswith(
        f"scenarios/T-1/scenario.yaml:{line_of(text, inline)}: parameters.{key}: expected ")


def test_cli_params_split_on_the_first_equals_sign():
    assert parse_cli_params(["url=http://x/?a=b", " key =", "empty="]) == \
        {"url": "http://x/?a=b", "key": "", "empty": ""}
    for bad in ("novalue", "=1"):
        with pytest.raises(ConfigError) as info:
            parse_cli_params([bad])
        assert info.value.lines() == [f"--param: expected KEY=VALUE, got {bad!r}"]


def test_the_plan_says_where_each_value_came_from(project):
    files = {"export/customer.ini": "[db]\nhost = db.internal\nport = 5432\n",
             "export/.env": "# exported 2024-03-31\nregion=us-east\n"}
    head = """\
        parameters_from: [export/customer.ini, export/.env]
        parameters:
          mode: fast
        """
    resolve(project, head, cli=("port=7001",), files=files)
    origins = plan_scenario(Path("T-1"), {"port": "7001"}).parameter_origins
    assert {k: origins[k] for k in ("host", "region", "mode", "port")} == {
        "host": "scenarios/T-1/export/customer.ini:2",
        "region": "scenarios/T-1/export/.env:2",
        "mode": "scenarios/T-1/scenario.yaml:4",
        "port": "--param",
    }
