"""The malformed-input corpus: files and command lines a user (or an attacker) could write.

Every case is held to one contract, through the real command line (in-process):

- the exit code is 2 (bad input), or 3 where the engine is the problem;
- exactly one error line: each case holds one problem, and repro prints one line per
  problem (`repro validate` lists every problem of a file at once, so a file with three
  problems gives three lines — never one problem spread over several lines);
- that line starts with `file:line:` when a file is involved (the file and line of the
  problem, not of whatever pointed at it), or with the option (`--param`, `--prune`) or
  the argument (a run id) that is wrong;
- it hints at the fix (a phrase of it is asserted);
- no traceback and no "internal error", on stdout or stderr.

Cases are data: add a row to CORPUS. tests/unit/test_readme_figures.py counts the rows
and holds the README's figures to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from ..fake_backend import FakeBackend


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    where: str  # how the error line starts: `file:line:`, `file:`, `--param:` ...
    fix: str  # a phrase of the hint
    files: dict[str, str | bytes] = field(default_factory=dict)
    code: int = 2


ENV = """\
image: repro-base/busybox
parameters:
  port: 8080
  ratio: 0.5
  debug: false
  mode: {default: fast, choices: [fast, slow]}
  token: {default: "", secret: true}
"""
SCENARIO = """\
environment: e
steps:
  - name: s
    run: echo {{ port }}
oracle: {any: [{step: s, exit_code: 0}]}
"""
SC = "scenarios/S/scenario.yaml"
EN = "environments/e.yaml"


def scenario(text: str, **more: str | bytes) -> dict[str, str | bytes]:
    """The files of a project whose scenario S is `text` (and the good environment e)."""
    return {EN: ENV, SC: text, **more}


def step(extra: str) -> dict[str, str | bytes]:
    """Scenario S with `extra` (lines at the step's indentation, from line 5) on its step."""
    return scenario("environment: e\nsteps:\n  - name: s\n    run: echo\n" + extra
                    + "oracle: {any: [{step: s, exit_code: 0}]}\n")


def top(extra: str, **more: str | bytes) -> dict[str, str | bytes]:
    """Scenario S (5 lines) with `extra` appended from line 6."""
    return scenario(SCENARIO + extra, **more)


def environment(text: str, **more: str | bytes) -> dict[str, str | bytes]:
    return {EN: text, SC: SCENARIO, **more}


def env_more(extra: str, **more: str | bytes) -> dict[str, str | bytes]:
    """The good environment (7 lines) with `extra` appended from line 8."""
    return environment(ENV + extra, **more)


def export(name: str, content: str | bytes, extra: str = "") -> dict[str, str | bytes]:
    """Scenario S reading the export customer/NAME (line 6 of the scenario)."""
    return top(f"parameters_from: [{{path: customer/{name}{extra}}}]\n"
               ) | {f"scenarios/S/customer/{name}": content}


VALIDATE_S = ("validate", "scenarios/S")
VALIDATE_E = ("validate", EN)
PLAN = ("plan", "S")


def _bomb(levels: int = 8) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


CORPUS = [
    # ---- scenario files: YAML itself ------------------------------------------------
    Case("yaml unclosed flow", VALIDATE_S, f"{SC}:3:", "check indentation and quoting",
         scenario("environment: e\nsteps: [\n")),
    Case("yaml tab indentation", VALIDATE_S, f"{SC}:3:", "check indentation",
         scenario("environment: e\nsteps:\n\t- run: echo\n")),
    Case("yaml bad indentation", VALIDATE_S, f"{SC}:4:", "check indentation",
         scenario("environment: e\nsteps:\n  - run: echo\n   name: s\n")),
    Case("yaml two documents", VALIDATE_S, f"{SC}:2:", "remove the `---` line",
         scenario(SCENARIO.replace("steps:", "---\nsteps:", 1))),
    Case("yaml python tag", VALIDATE_S, f"{SC}:1:", "remove the tag",
         scenario("environment: !!python/object:os.system e\n" + SCENARIO.split("\n", 1)[1])),
    Case("yaml custom tag", VALIDATE_S, f"{SC}:1:", "remove the tag",
         scenario("environment: !env e\n" + SCENARIO.split("\n", 1)[1])),
    Case("yaml NUL byte", VALIDATE_S, f"{SC}:4:", "as an escape",
         scenario(SCENARIO.replace("echo", "echo \x00"))),
    Case("yaml alias bomb", VALIDATE_S, f"{SC}:6:", "alias bomb", scenario(_bomb())),
    Case("yaml duplicate key", VALIDATE_S, f"{SC}:6:", "an earlier value would be silently lost",
         top("environment: e\n")),
    Case("yaml key not a scalar", VALIDATE_S, f"{SC}:6:", "a name, not a list",
         top("? [a, b]\n: 1\n")),
    Case("yaml unknown alias", VALIDATE_S, f"{SC}:4:", "check indentation",
         scenario(SCENARIO.replace("echo {{ port }}", "*nowhere"))),
    Case("not UTF-8", VALIDATE_S, f"{SC}:4:", "save the file as UTF-8",
         scenario(SCENARIO.encode().replace(b"echo", b"echo caf\xe9"))),
    Case("UTF-16 with BOM", VALIDATE_S, f"{SC}:1:", "save the file as UTF-8",
         scenario(SCENARIO.encode("utf-16"))),
    Case("empty file", VALIDATE_S, f"{SC}:", "the file is empty", scenario("")),
    Case("comments only", VALIDATE_S, f"{SC}:", "the file is empty",
         scenario("# to do\n\n# later\n")),
    Case("a list, not a mapping", VALIDATE_S, f"{SC}:1:", "must be a mapping",
         scenario("- environment: e\n")),
    Case("a scalar, not a mapping", VALIDATE_S, f"{SC}:1:", "must be a mapping",
         scenario("just words\n")),
    # ---- scenario files: structure ---------------------------------------------------
    Case("misspelt key", VALIDATE_S, f"{SC}:6:", "did you mean 'steps'", top("stpes: []\n")),
    Case("environment missing", VALIDATE_S, f"{SC}:1:", "'environment' is required",
         scenario(SCENARIO.split("\n", 1)[1])),
    Case("environment unknown", VALIDATE_S, f"{SC}:1:", "environments in environments: e",
         scenario(SCENARIO.replace("environment: e", "environment: nope"))),
    Case("environment misspelt", VALIDATE_S, f"{SC}:1:", "did you mean 'e'",
         scenario(SCENARIO.replace("environment: e", "environment: E"),
                  **{"environments/f.yaml": ENV})),
    Case("environment a list", VALIDATE_S, f"{SC}:1:", "expected a string",
         scenario(SCENARIO.replace("environment: e", "environment: [e]"))),
    Case("steps a mapping", VALIDATE_S, f"{SC}:2:", "expected a list",
         scenario("environment: e\nsteps: {run: echo}\n"
                  "oracle: {any: [{step: s, exit_code: 0}]}\n")),
    Case("steps empty", VALIDATE_S, f"{SC}:2:", "at least one",
         scenario("environment: e\nsteps: []\ncapture: [{path: /out, name: out}]\n"
                  "oracle: {any: [{file: out, exists: true}]}\n")),
    Case("step without run", VALIDATE_S, f"{SC}:3:", "needs one of 'run'",
         scenario(SCENARIO.replace("    run: echo {{ port }}\n", ""))),
    Case("step run a mapping", VALIDATE_S, f"{SC}:4:", "a string or a list",
         scenario(SCENARIO.replace("echo {{ port }}", "{sh: echo}"))),
    Case("step unknown key", VALIDATE_S, f"{SC}:5:", "did you mean 'timeout'",
         step("    timout: 5s\n")),
    Case("duplicate step names", VALIDATE_S, f"{SC}:4:", "a name of its own",
         scenario("environment: e\nsteps:\n  - {name: s, run: a}\n  - {name: s, run: b}\n"
                  "oracle: {any: [{step: s, exit_code: 0}]}\n")),
    Case("timeout not a duration", VALIDATE_S, f"{SC}:5:", "like 30s", step("    timeout: soon\n")),
    Case("timeout negative", VALIDATE_S, f"{SC}:5:", "like 30s", step("    timeout: -1s\n")),
    Case("timeout zero", VALIDATE_S, f"{SC}:5:", "longer than zero", step("    timeout: 0\n")),
    Case("timeout endless", VALIDATE_S, f"{SC}:5:", "at most 366d",
         step("    timeout: 9999999h\n")),
    Case("timeout true", VALIDATE_S, f"{SC}:5:", "like 30s", step("    timeout: true\n")),
    Case("timeout .nan", VALIDATE_S, f"{SC}:5:", "like 30s", step("    timeout: .nan\n")),
    Case("timeout .inf", VALIDATE_S, f"{SC}:5:", "at most 366d", step("    timeout: .inf\n")),
    Case("step_timeout endless", VALIDATE_S, f"{SC}:6:", "at most 366d",
         top("step_timeout: 400d\n")),
    Case("stop_on_failure text", VALIDATE_S, f"{SC}:5:", "true or false",
         step("    stop_on_failure: perhaps\n")),
    Case("stdin and stdin_file", VALIDATE_S, f"{SC}:6:", "not both",
         step("    stdin: x\n    stdin_file: in.txt\n", )),
    Case("stdin_file missing", VALIDATE_S, f"{SC}:5:", "not found",
         step("    stdin_file: customer/in.txt\n")),
    Case("step at not an offset", VALIDATE_S, f"{SC}:5:", "like", step("    at: later\n")),
    Case("repeat count zero", VALIDATE_S, f"{SC}:5:", "at least 1",
         step("    repeat: {count: 0}\n")),
    Case("expect unknown", VALIDATE_S, f"{SC}:6:", "did you mean 'fixed'", top("expect: fixd\n")),
    Case("oracle missing", VALIDATE_S, f"{SC}:1:", "'oracle' is required",
         scenario("environment: e\nsteps: [{name: s, run: echo}]\n")),
    Case("oracle empty", VALIDATE_S, f"{SC}:3:", "needs 'any' or 'all'",
         scenario("environment: e\nsteps: [{name: s, run: echo}]\noracle: {}\n")),
    Case("oracle unknown step", VALIDATE_S, f"{SC}:3:", "(steps: s)",
         scenario("environment: e\nsteps: [{name: s, run: echo}]\n"
                  "oracle: {any: [{step: S, exit_code: 0}]}\n")),
    Case("oracle bad regex", VALIDATE_S, f"{SC}:3:", "invalid regular expression",
         scenario("environment: e\nsteps: [{name: s, run: echo}]\n"
                  "oracle: {any: [{step: s, stderr: '(unclosed'}]}\n")),
    Case("oracle exit_code text", VALIDATE_S, f"{SC}:3:", "a whole number",
         scenario("environment: e\nsteps: [{name: s, run: echo}]\n"
                  "oracle: {any: [{step: s, exit_code: one}]}\n")),
    Case("capture relative path", VALIDATE_S, f"{SC}:6:", "absolute path",
         top("capture: [var/log/app.log]\n")),
    Case("capture unknown type", VALIDATE_S, f"{SC}:6:", "must be one of",
         top("capture: [{path: /x, type: xml}]\n")),
    Case("data from missing", VALIDATE_S, f"{SC}:6:", "not found",
         top("data: [{from: customer/dump.tar, to: /in}]\n")),
    Case("data to relative", VALIDATE_S, f"{SC}:6:", "absolute path",
         top("data: [{from: x.txt, to: in}]\n", **{"scenarios/S/x.txt": "x\n"})),
    Case("data from absolute host path", PLAN, f"{SC}:6:", "REPRO_ALLOW_PATHS",
         top("data: [{from: /etc/passwd, to: /in}]\n")),
    Case("normalize bad regex", VALIDATE_S, f"{SC}:6:", "invalid regular expression",
         top("normalize: [{replace: '[a-', with: x}]\n")),
    Case("normalize unknown mask", VALIDATE_S, f"{SC}:6:", "expected one of 'iso8601'",
         top("normalize: [{mask: everything}]\n")),
    Case("parameters a list", VALIDATE_S, f"{SC}:6:", "expected a mapping",
         top("parameters: [port]\n")),
    Case("parameter unknown", PLAN, f"{SC}:6:", "did you mean 'port'",
         top("parameters: {prot: 1}\n")),
    Case("parameter wrong type", PLAN, f"{SC}:6:", "a whole number",
         top("parameters: {port: eighty}\n")),
    Case("parameter not a choice", PLAN, f"{SC}:6:", "fast, slow",
         top("parameters: {mode: medium}\n")),
    Case("parameter boolean text", PLAN, f"{SC}:6:", "true or false",
         top("parameters: {debug: maybe}\n")),
    Case("clock at not an instant", VALIDATE_S, f"{SC}:6:", "ISO 8601",
         top("clock: {at: yesterday}\n")),
    Case("clock unknown zone", VALIDATE_S, f"{SC}:6:", "Europe/Berlin",
         top("clock: {at: '2024-03-31T00:29:50', zone: Mars/Olympus}\n")),
    Case("timezone unknown", VALIDATE_S, f"{SC}:6:", "Europe/Berlin",
         top("timezone: Mars/Olympus\n")),
    Case("tmpfs relative", VALIDATE_S, f"{SC}:6:", "absolute", top("tmpfs: {scratch: 64m}\n")),
    Case("fault unknown service", VALIDATE_S, f"{SC}:5:", "the environment has no services",
         step("  - fault: {stop: db}\n")),
    Case("query unknown service", VALIDATE_S, f"{SC}:6:", "service",
         top("queries: [{name: q, service: db, sql: SELECT 1}]\n")),
    # ---- templates in scenarios ------------------------------------------------------
    Case("template undefined name", VALIDATE_S, f"{SC}:4:", "known parameters",
         scenario(SCENARIO.replace("{{ port }}", "{{ prot }}"))),
    Case("template syntax", VALIDATE_S, f"{SC}:4:", "template syntax error",
         scenario(SCENARIO.replace("{{ port }}", "{{ port "))),
    Case("template division by zero", VALIDATE_S, f"{SC}:4:", "template error",
         scenario(SCENARIO.replace("{{ port }}", "{{ port / 0 }}"))),
    Case("template unknown filter", VALIDATE_S, f"{SC}:4:", "no filter named",
         scenario(SCENARIO.replace("{{ port }}", "{{ port | nofilter }}"))),
    Case("template huge product", VALIDATE_S, f"{SC}:4:", "too large",
         scenario(SCENARIO.replace("{{ port }}", "{{ 'a' * 100000000 }}"))),
    Case("template dunder", VALIDATE_S, f"{SC}:4:", "template error",
         scenario(SCENARIO.replace("{{ port }}", "{{ port.__class__.__mro__ }}"))),
    Case("jinja include", VALIDATE_S, f"{SC}:4:", "is not supported",
         scenario(SCENARIO.replace("echo {{ port }}", "\"{% include '/etc/passwd' %}\""))),
    Case("jinja import", VALIDATE_S, f"{SC}:6:", "is not supported",
         scenario(SCENARIO.replace("echo {{ port }}", "|\n      echo\n"
                                   "      {% import 'x' as y %}"))),
    Case("jinja extends", VALIDATE_S, f"{SC}:4:", "is not supported",
         scenario(SCENARIO.replace("echo {{ port }}", "\"{% extends 'base' %}\""))),
    # ---- environment files -----------------------------------------------------------
    Case("env empty", VALIDATE_E, f"{EN}:", "the file is empty", environment("")),
    Case("env image missing", VALIDATE_E, f"{EN}:1:", "'image' is required",
         environment("description: x\n")),
    Case("env misspelt key", VALIDATE_E, f"{EN}:8:", "did you mean 'image'",
         env_more("imgae: x\n")),
    Case("env image reference invalid", VALIDATE_E, f"{EN}:1:", "is not an image reference",
         environment("image: 'UPPER/Case::bad'\n")),
    Case("env image ref and build", VALIDATE_E, f"{EN}:1:", "only one",
         environment("image: {ref: repro-base/busybox, build: {context: app}}\n",
                     **{"environments/app/Dockerfile": "FROM repro-base/busybox\n"})),
    Case("env build context missing", VALIDATE_E, f"{EN}:1:", "is not a directory",
         environment("image: {build: {context: app}}\n")),
    Case("env Dockerfile missing", VALIDATE_E, f"{EN}:1:", "Dockerfile",
         environment("image: {build: {context: app}}\n", **{"environments/app/x": "x\n"})),
    Case("env build context outside", VALIDATE_E, f"{EN}:1:", "REPRO_ALLOW_PATHS",
         environment("image: {build: {context: /etc}}\n")),
    Case("env parameter default a list", VALIDATE_E, f"{EN}:3:", "a string, number or boolean",
         environment(ENV.replace("  port: 8080", "  port: {default: [1, 2]}"))),
    Case("env parameter name invalid", VALIDATE_E, f"{EN}:3:", "letters",
         environment(ENV.replace("  port: 8080", "  my-port: 8080").replace("{{ port }}", "1"))
         | {SC: SCENARIO.replace("{{ port }}", "1")}),
    Case("env default not a choice", VALIDATE_E, f"{EN}:6:", "choices (fast, slow)",
         environment(ENV.replace("default: fast", "default: quick"))),
    Case("env secret in build args", ("plan", "S", "-p", "token=abcdefgh"), f"{EN}:1:", "secret",
         environment(ENV.replace("image: repro-base/busybox",
                                 "image: {build: {context: app, args: {T: '{{ token }}'}}}"),
                     **{"environments/app/Dockerfile": "FROM repro-base/busybox\n"})),
    Case("env file content and template", VALIDATE_E, f"{EN}:9:", "only one",
         env_more("files:\n  - {path: /etc/a, content: x, template: a.j2}\n",
                  **{"environments/a.j2": "x\n"})),
    Case("env file relative path", VALIDATE_E, f"{EN}:9:", "absolute path",
         env_more("files:\n  - {path: etc/a, content: x}\n")),
    Case("env file mode not octal", VALIDATE_E, f"{EN}:9:", "octal file mode",
         env_more("files:\n  - {path: /etc/a, content: x, mode: '0999'}\n")),
    Case("env file template missing", VALIDATE_E, f"{EN}:9:", "not found",
         env_more("files:\n  - {path: /etc/a, template: t/a.j2}\n")),
    Case("env file template outside", VALIDATE_E, f"{EN}:9:", "REPRO_ALLOW_PATHS",
         env_more("files:\n  - {path: /etc/a, template: ../../../../../../etc/passwd}\n")),
    Case("env template file syntax", VALIDATE_E, "environments/t/a.j2:2:", "template syntax error",
         env_more("files:\n  - {path: /etc/a, template: t/a.j2}\n",
                  **{"environments/t/a.j2": "port = {{ port }}\nmode = {% if %}\n"})),
    Case("env template file undefined", VALIDATE_E, "environments/t/a.j2:3:", "known parameters",
         env_more("files:\n  - {path: /etc/a, template: t/a.j2}\n",
                  **{"environments/t/a.j2": "a\nb\nport = {{ prot }}\n"})),
    Case("env template file not UTF-8", PLAN, "environments/t/a.j2:2:", "save the file as UTF-8",
         env_more("files:\n  - {path: /etc/a, template: t/a.j2}\n",
                  **{"environments/t/a.j2": b"a\nb = caf\xe9\n"})),
    Case("env template file include", VALIDATE_E, "environments/t/a.j2:2:", "is not supported",
         env_more("files:\n  - {path: /etc/a, template: t/a.j2}\n",
                  **{"environments/t/a.j2": "a\n{% include 'b.j2' %}\n"})),
    Case("env inline content undefined", VALIDATE_E, f"{EN}:9:", "known parameters",
         env_more("files:\n  - {path: /etc/a, content: '{{ nope }}'}\n")),
    Case("env env a list", VALIDATE_E, f"{EN}:8:", "expected a mapping", env_more("env: [A=1]\n")),
    Case("env env value a mapping", VALIDATE_E, f"{EN}:8:", "expected a string",
         env_more("env: {A: {b: 1}}\n")),
    Case("env memory words", VALIDATE_E, f"{EN}:8:", "like 512m",
         env_more("limits: {memory: lots}\n")),
    Case("env memory tiny", VALIDATE_E, f"{EN}:8:", "at least 6m",
         env_more("limits: {memory: 1k}\n")),
    Case("env memory huge digits", VALIDATE_E, f"{EN}:8:", "like 512m",
         env_more(f"limits: {{memory: '{'9' * 5000}'}}\n")),
    Case("env cpus text", VALIDATE_E, f"{EN}:8:", "a number", env_more("limits: {cpus: many}\n")),
    Case("env pids negative", VALIDATE_E, f"{EN}:8:", "at least 8",
         env_more("limits: {pids: -1}\n")),
    Case("env shm_size words", VALIDATE_E, f"{EN}:8:", "like 64m",
         env_more("limits: {shm_size: big}\n")),
    Case("env ulimit unknown", VALIDATE_E, f"{EN}:8:", "nofile",
         env_more("limits: {ulimits: {nofiles: 10}}\n")),
    Case("env egress text", VALIDATE_E, f"{EN}:8:", "true or false",
         env_more("network: {egress: maybe}\n")),
    Case("env capability unknown", VALIDATE_E, f"{EN}:8:", "e.g. NET_RAW",
         env_more("security: {capabilities: [FLY]}\n")),
    Case("env workdir relative", VALIDATE_E, f"{EN}:8:", "absolute path",
         env_more("workdir: srv\n")),
    Case("env locale invalid", VALIDATE_E, f"{EN}:8:", "de_DE.UTF-8",
         env_more("locale: 'not a locale'\n")),
    Case("env service image missing", VALIDATE_E, f"{EN}:9:", "'image' is required",
         env_more("services:\n  db: {command: sleep 1}\n")),
    Case("env service name invalid", VALIDATE_E, f"{EN}:9:", "service name",
         env_more("services:\n  'Db Server': {image: repro-base/busybox}\n")),
    Case("env service depends on unknown", VALIDATE_E, f"{EN}:9:", "(services: db)",
         env_more("services:\n  db: {image: repro-base/busybox, depends_on: [bd]}\n")),
    Case("env service dependency cycle", VALIDATE_E, f"{EN}:8:", "in a circle: a -> b -> a",
         env_more("services:\n  a: {image: repro-base/busybox, depends_on: [b]}\n"
                  "  b: {image: repro-base/busybox, depends_on: [a]}\n")),
    Case("env service ready port", VALIDATE_E, f"{EN}:9:", "port",
         env_more("services:\n  db: {image: repro-base/busybox, ready: {tcp: 70000}}\n")),
    Case("env service ready empty", VALIDATE_E, f"{EN}:9:", "needs",
         env_more("services:\n  db: {image: repro-base/busybox, ready: {}}\n")),
    # ---- parameter exports (yaml, json, ini, env) --------------------------------------
    Case("export yaml invalid", PLAN, "scenarios/S/customer/p.yaml:2:", "check indentation",
         export("p.yaml", "port: 1\n  mode: [\n")),
    Case("export yaml a list", PLAN, "scenarios/S/customer/p.yaml:1:", "a mapping of parameter",
         export("p.yaml", "- port\n")),
    Case("export yaml nested value", PLAN, "scenarios/S/customer/p.yaml:2:", "strings, numbers",
         export("p.yaml", "mode: fast\nport: {a: 1}\n")),
    Case("export yaml unknown key", PLAN, "scenarios/S/customer/p.yaml:2:", "ignore_unknown",
         export("p.yaml", "port: 1\ncolour: red\n")),
    Case("export yaml wrong type", PLAN, "scenarios/S/customer/p.yaml:1:", "a whole number",
         export("p.yaml", "port: http\n")),
    Case("export yaml alias bomb", PLAN, "scenarios/S/customer/p.yaml:6:", "alias bomb",
         export("p.yaml", _bomb())),
    Case("export json invalid", PLAN, "scenarios/S/customer/p.json:3:", "invalid JSON",
         export("p.json", '{\n  "port": 1\n  "mode": "fast"\n}\n')),
    Case("export json trailing comma", PLAN, "scenarios/S/customer/p.json:3:", "invalid JSON",
         export("p.json", '{\n  "port": 1,\n}\n')),
    Case("export json an array", PLAN, "scenarios/S/customer/p.json:1:", "a mapping of parameter",
         export("p.json", '[1, 2]\n')),
    Case("export json null value", PLAN, "scenarios/S/customer/p.json:2:", "strings, numbers",
         export("p.json", '{\n  "port": null\n}\n')),
    Case("export json not a choice", PLAN, "scenarios/S/customer/p.json:1:", "fast, slow",
         export("p.json", '{"mode": "medium"}\n')),
    Case("export json empty", PLAN, "scenarios/S/customer/p.json:1:", "invalid JSON",
         export("p.json", "")),
    Case("export ini garbage line", PLAN, "scenarios/S/customer/p.ini:3:", "key = value",
         export("p.ini", "[app]\nport = 1\nthis is not a setting\n")),
    Case("export ini unclosed header", PLAN, "scenarios/S/customer/p.ini:1:", "[section] header",
         export("p.ini", "[app\nport = 1\n")),
    Case("export ini duplicate section", PLAN, "scenarios/S/customer/p.ini:3:", "section",
         export("p.ini", "[app]\nport = 1\n[app]\nmode = fast\n")),
    Case("export ini duplicate option", PLAN, "scenarios/S/customer/p.ini:3:", "port",
         export("p.ini", "[app]\nport = 1\nport = 2\n")),
    Case("export ini sections disagree", PLAN, "scenarios/S/customer/p.ini:4:", "section:",
         export("p.ini", "[a]\nport = 1\n[b]\nport = 2\n")),
    Case("export ini section missing", PLAN, "scenarios/S/customer/p.ini:", "sections: app",
         export("p.ini", "[app]\nport = 1\n", ", section: server")),
    Case("export ini wrong type", PLAN, "scenarios/S/customer/p.ini:2:", "a number",
         export("p.ini", "[app]\nratio = half\n")),
    Case("export env no equals", PLAN, "scenarios/S/customer/p.env:2:", "KEY=VALUE",
         export("p.env", "PORT=1\nthis line is wrong\n")),
    Case("export env empty key", PLAN, "scenarios/S/customer/p.env:1:", "KEY=VALUE",
         export("p.env", "=1\n")),
    Case("export env unknown key", PLAN, "scenarios/S/customer/p.env:2:", "ignore_unknown",
         export("p.env", "# exported\nCOLOUR=red\n")),
    Case("export env not UTF-8", PLAN, "scenarios/S/customer/p.env:1:", "save the file as UTF-8",
         export("p.env", b"mode=caf\xe9\n")),
    Case("export unknown format", PLAN, "scenarios/S/customer/p.txt:", "format:",
         export("p.txt", "port=1\n")),
    Case("export missing", PLAN, f"{SC}:6:", "not found",
         top("parameters_from: [customer/nope.env]\n")),
    Case("export format unknown", VALIDATE_S, f"{SC}:6:", "must be one of",
         export("p.env", "port=1\n", ", format: toml")),
    # ---- baselines ---------------------------------------------------------------------
    Case("baseline not a mapping", ("run", "S"), "scenarios/S/baseline.yaml:1:", "repro baseline",
         scenario(SCENARIO, **{"scenarios/S/baseline.yaml": "- 1\n"})),
    Case("baseline invalid YAML", ("run", "S"), "scenarios/S/baseline.yaml:3:", "check indentation",
         scenario(SCENARIO, **{"scenarios/S/baseline.yaml": "steps:\n  - [\n"})),
    Case("baseline cut short", ("run", "S"), "scenarios/S/baseline.yaml:1:", "repro baseline",
         scenario(SCENARIO, **{"scenarios/S/baseline.yaml": "format: 1\nscenario: S\n"
                               "steps: [{name: s, command: echo 8080}]\n"})),
    Case("baseline other steps", ("run", "S"), "scenarios/S/baseline.yaml:3:", "repro baseline",
         scenario(SCENARIO, **{"scenarios/S/baseline.yaml": "format: 1\nscenario: S\n"
                               "steps: [{name: t, command: x}]\nchannels: {}\n"})),
    # ---- command lines -----------------------------------------------------------------
    Case("--param without =", ("plan", "S", "--param", "port"), "--param:", "KEY=VALUE",
         scenario(SCENARIO)),
    Case("--param empty key", ("plan", "S", "-p", "=1"), "--param:", "KEY=VALUE",
         scenario(SCENARIO)),
    Case("--param unknown", ("plan", "S", "-p", "prot=1"), "--param:", "did you mean 'port'",
         scenario(SCENARIO)),
    Case("--param wrong type", ("plan", "S", "-p", "port=x"), "--param:", "a whole number",
         scenario(SCENARIO)),
    Case("--param not a choice", ("plan", "S", "-p", "mode=x"), "--param:", "fast, slow",
         scenario(SCENARIO)),
    Case("unknown command", ("runx",), "no such command 'runx'", "did you mean 'run'"),
    Case("unknown option", ("run", "S", "--kep"), "no such option: --kep", "--keep"),
    Case("missing argument", ("diff", "a"), "missing argument 'second'", "repro diff --help"),
    Case("option without value", ("plan", "S", "--param"), "option '--param'",
         "requires an argument"),
    Case("--limit not a number", ("runs", "--limit", "abc"), "invalid value for '--limit'",
         "not a valid int"),
    Case("unknown env subcommand", ("env", "impor"), "no such command 'impor'",
         "did you mean 'import'"),
    Case("scenario not found", ("plan", "nope"), "nope:", "no scenario.yaml found"),
    Case("scenario misspelt", ("plan", "s"), "s:", "did you mean 'S'", scenario(SCENARIO)),
    Case("validate a folder of nothing", ("validate", "empty"), "empty:", "nothing to validate",
         {"empty/README": "x\n"}),
    Case("--prune words", ("runs", "--prune", "soon"), "--prune", "like 30d"),
    Case("--prune zero", ("runs", "--prune", "0d"), "--prune", "like 30d"),
    Case("--prune negative", ("runs", "--prune", "-1d"), "--prune", "like 30d"),
    Case("--prune endless", ("runs", "--prune", "99999999d"), "--prune", "like 30d"),
    Case("diff unknown run ids", ("diff", "nope-1", "nope-2"), "nope-1:", "a record.json path"),
    Case("diff a folder without record", ("diff", "somewhere", "nope"), "somewhere:", "record",
         {"somewhere/x.txt": "x\n"}),
    Case("diff a broken record", ("diff", "r/record.json", "r/record.json"), "r/record.json:",
         "record", {"r/record.json": "{not json\n"}),
    Case("schema unknown kind", ("schema", "scenery"), "schema:",
         "use environment, scenario or all"),
    Case("timeline log missing", ("timeline", "nope.log"), "nope.log:", "not found"),
    Case("timeline bad regex", ("timeline", "app.log", "--match", "("), "--match",
         "regular expression", {"app.log": "2024-03-31T00:29:50Z start\n"}),
    Case("timeline unknown zone", ("timeline", "app.log", "--zone", "Mars/X"), "--zone",
         "Europe/Berlin", {"app.log": "2024-03-31 00:29:50 start\n"}),
    Case("timeline year out of range", ("timeline", "app.log", "--year", "99999"), "--year",
         "like 2024", {"app.log": "Mar 31 00:29:50 host app: start\n"}),
    Case("gc --env without --images", ("gc", "--env", "e"), "--env", "repro gc --images --env"),
    Case("env import missing", ("env", "import", "nope.yml"), "nope.yml:", "not found"),
    Case("env import invalid YAML", ("env", "import", "compose.yml"), "compose.yml:3:",
         "check indentation", {"compose.yml": "services:\n  web: [\n"}),
    Case("env import no services", ("env", "import", "compose.yml"), "compose.yml:1:",
         "services", {"compose.yml": "version: '3'\n"}),
    Case("env import over an environment", ("env", "import", "app/compose.yml", "--name", "e"),
         f"{EN}:", "--force", {EN: ENV, "app/compose.yml":
                               "services:\n  web: {image: repro-base/busybox}\n"}),
    Case("shell unknown service", ("shell", "S", "--service", "db"), "--service", "services: none",
         scenario(SCENARIO)),
]


def _error_lines(stderr: str) -> list[str]:
    """The error lines: `repro: error: ...` (prefix removed), or validate's bare lines."""
    out = []
    for line in stderr.splitlines():
        if line.startswith("repro: error: "):
            out.append(line.removeprefix("repro: error: "))
        elif line and not line.startswith("repro: ") and not line.endswith(" files valid"):
            out.append(line)
    return out


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr("repro.sandbox.backends.default", lambda: fake)
    return fake


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_malformed_input_is_one_located_line_with_a_fix(project, cli, backend, case: Case):
    for rel, content in case.files.items():
        project.write(rel, content)
    result = cli(*case.argv)
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything and "internal error" not in everything, everything
    assert result.exit_code == case.code, everything
    lines = _error_lines(result.stderr)
    assert len(lines) == 1, everything
    assert lines[0].startswith(case.where), lines[0]
    assert case.fix.lower() in lines[0].lower(), lines[0]
    assert not backend.sandboxes, "bad input reached the engine"


def test_the_corpus_cases_are_distinct():
    assert len({c.name for c in CORPUS}) == len(CORPUS)
    assert len({json.dumps([c.argv, sorted(c.files.items(), key=str)], default=repr)
                for c in CORPUS}) == len(CORPUS)
