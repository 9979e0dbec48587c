"""Sandboxed Jinja2 rendering: strict undefined names, reported at the right file and line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from repro.config.templating import render
from repro.errors import ConfigError, Problem
from repro.plan.build import plan_scenario

from ..conftest import APP_ENV, APP_SCENARIO, line_of

KNOWN = "known parameters: db_password, debug, mode, port, ratio (declare it under " \
        "`parameters:` in the environment)"


def plan_problems(target: str = "T-1") -> list[str]:
    with pytest.raises(ConfigError) as info:
        plan_scenario(Path(target))
    return info.value.lines()


def test_rendered_files_use_parameters_and_scenario_context(project):
    project.app()
    files = {f.path: f.content for f in plan_scenario(Path("T-1")).files}
    assert files == {
        "/etc/app/app.conf": b"# app.conf for T-1\nlisten = 8080\n\nmode = fast\n",
        "/etc/app/flags.conf": b"debug=False\nratio=0.5\n",
    }


def test_text_without_template_markers_is_left_alone():
    text = "echo ${HOME} {not jinja} 100% }}\n"
    assert render(text, {}, Problem("f", None, "", "")) == text


def test_params_mapping_and_filters_are_available():
    where = Problem("f", None, "", "")
    out = render("{{ params.port }} {{ missing | default('none') }} {{ name | upper }}\n",
                 {"port": 1, "name": "db", "params": {"port": 1}}, where)
    assert out == "1 none DB\n"


def test_undefined_names_everywhere_are_reported_at_once_with_lines(project):
    env_text = APP_ENV.replace('APP_PORT: "{{ port }}"', 'APP_PORT: "{{ prot }}"')
    scen_text = APP_SCENARIO.replace("--port {{ port }}", "--port {{ portt }}")
    template = "# app.conf\nlisten = {{ port }}\n\nmode = {{ modee }}\n"
    project.environment("app", env_text)
    project.write("environments/templates/app.conf.j2", template)
    project.scenario("T-1", scen_text)
    assert plan_problems() == [
        f"environments/app.yaml:{line_of(env_text, 'prot')}: env.APP_PORT: 'prot' is "
        f"undefined; {KNOWN}",
        f"environments/templates/app.conf.j2:{line_of(template, 'modee')}: 'modee' is "
        f"undefined; {KNOWN}",
        f"scenarios/T-1/scenario.yaml:{line_of(scen_text, 'portt')}: steps[0].run: 'portt' "
        f"is undefined; {KNOWN}",
    ]


ENV_HEAD = "image: busybox\nparameters:\n  port: 8080\n"
SCEN_TAIL = "oracle: {any: [{step: step-1, failed: true}]}\n"


@pytest.mark.parametrize("where, text", [
    pytest.param("environment", ENV_HEAD + dedent("""\
        files:
          - path: /etc/a
            content: |
              port={{ port }}
              host={{ nope }}
        """), id="block-content"),
    pytest.param("environment", ENV_HEAD + dedent("""\
        files:
          - path: /etc/a
            content: "host={{ nope }}"
        """), id="one-line-content"),
    pytest.param("environment", ENV_HEAD + 'env:\n  HOST: "{{ nope }}"\n', id="env-value"),
    pytest.param("scenario", dedent("""\
        environment: app
        steps:
          - run: |
              echo {{ port }}
              echo {{ nope }}
        """) + SCEN_TAIL, id="block-run"),
    pytest.param("scenario", dedent("""\
        environment: app
        steps:
          - run: [echo, "{{ nope }}"]
            env:
              A: "{{ port }}"
        """) + SCEN_TAIL, id="argv-item"),
])
def test_undefined_name_in_inline_template_points_at_its_yaml_line(project, where, text):
    if where == "environment":
        project.environment("app", text)
        project.scenario("T-1", "environment: app\nsteps: [{run: x}]\n" + SCEN_TAIL)
        shown = "environments/app.yaml"
    else:
        project.environment("app", ENV_HEAD)
        project.scenario("T-1", text)
        shown = "scenarios/T-1/scenario.yaml"
    (reported,) = plan_problems()
    assert reported.startswith(f"{shown}:{line_of(text, '{{ nope }}')}: ")
    assert reported.endswith(": 'nope' is undefined; known parameters: port (declare it "
                             "under `parameters:` in the environment)")


def test_syntax_error_in_template_file_reports_its_line(project):
    project.app()
    template = "# app.conf\n{% if debug %}\ndebug = on\n{% endfor %}\n"
    project.write("environments/templates/app.conf.j2", template)
    assert plan_problems() == [
        f"environments/templates/app.conf.j2:{line_of(template, 'endfor')}: template syntax "
        "error: Encountered unknown tag 'endfor'. Jinja was looking for the following tags: "
        "'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."]


def test_sandbox_refuses_unsafe_attribute_access():
    with pytest.raises(ConfigError) as info:
        render("ok\n{{ port.__class__.__mro__[1].__subclasses__() }}\n", {"port": 1},
               Problem("t.j2", None, "", ""))
    assert info.value.lines() == [
        "t.j2:2: template error: access to attribute '__class__' of 'int' object is unsafe."]


@pytest.mark.parametrize("expression", [
    "{% include 'common.conf' %}",
    "{{ port / 0 }}",
    "{{ port + 'x' }}",
])
def test_template_runtime_errors_are_config_errors_at_their_line(project, expression):
    """Errors a support engineer can fix in the template must not surface as crashes."""
    project.app()
    template = f"# app.conf\nlisten = {{{{ port }}}}\n{expression}\n"
    project.write("environments/templates/app.conf.j2", template)
    (reported,) = plan_problems()
    assert reported.startswith(
        f"environments/templates/app.conf.j2:{line_of(template, expression)}: ")
