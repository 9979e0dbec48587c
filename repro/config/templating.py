"""Render config files and values with sandboxed Jinja2; undefined names are errors."""

from __future__ import annotations

import re
import threading
import traceback
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from repro.errors import ConfigError, Problem

if TYPE_CHECKING:
    from jinja2 import Environment

MAX_RENDERED = 10 * 1024 * 1024  # characters one template operation may produce


@lru_cache(maxsize=1)
def _jinja() -> tuple[ModuleType, Environment]:
    # Imported lazily: most commands and many scenarios never render a template.
    import jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class Bounded(SandboxedEnvironment):
        """No `{{ 'a' * 10**10 }}`: a template must not exhaust memory or time."""

        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int) and right > 64:
                raise SecurityError("exponent too large")
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and \
                            len(seq) * times > MAX_RENDERED:
                        raise SecurityError("result too large")
            return super().call_binop(context, operator, left, right)

    env = Bounded(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.globals["range"] = _budgeted_range(SecurityError)
    return jinja2, env


# Loops in one rendering may go round this many times in all: `range` is bounded per call
# by the sandbox, nested loops multiply (99999 x 99999 would run for hours).
MAX_ITERATIONS = 1_000_000
_spent = threading.local()


def _budgeted_range(refuse: type[Exception]) -> Any:
    def budgeted(*args: int) -> range:
        numbers = range(*args)
        _spent.count = getattr(_spent, "count", 0) + len(numbers)
        if _spent.count > MAX_ITERATIONS:
            raise refuse(f"loops go round more than {MAX_ITERATIONS} times in all")
        return numbers

    return budgeted


def needs_rendering(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


# `{{ name }}` and nothing fancier: substituted directly, as Jinja would (str(value)),
# which spares most runs the ~20 ms import of Jinja2. Anything else goes to Jinja2.
_SIMPLE = re.compile(r"\{\{ ?([A-Za-z_][A-Za-z0-9_]*) ?\}\}")
# Templates see the parameters and nothing else: no other file can be pulled in.
_LOADS = re.compile(r"\{%[-+]?\s*(include|import|from|extends)\b")


def _simple(text: str, context: dict[str, Any]) -> str | None:
    if "{%" in text or "{#" in text:
        return None
    names = _SIMPLE.findall(text)
    if not names or text.count("{{") != len(names) or any(n not in context for n in names):
        return None  # undefined names get Jinja's full error path
    if any(not isinstance(context[n], (str, int, float)) for n in names):
        return None
    return _SIMPLE.sub(lambda m: str(context[m.group(1)]), text)


def render(text: str, context: dict[str, Any], where: Problem) -> str:
    """Render `text`; `where` locates it (file, line of its first character, key path)."""
    if not needs_rendering(text):
        return text
    fast = _simple(text, context)
    if fast is not None:
        return fast
    loads = _LOADS.search(text)
    if loads:
        line = text.count("\n", 0, loads.start()) + 1
        raise ConfigError(_at(where, line, f"`{{% {loads.group(1)} %}}` is not supported: a "
                              "template sees only the parameters; write the text inline (one "
                              "`files:` entry per file)"))
    jinja2, env = _jinja()
    name = f"<{where.file}>"
    try:
        template = env.from_string(text)
        template.name = template.filename = name  # so traceback frames point at it
        _spent.count = 0  # the loop budget is per rendering
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(_at(where, exc.lineno, f"template syntax error: {exc.message}")) \
            from None
    except jinja2.UndefinedError as exc:
        at = _template_line(exc, name)
        known = ", ".join(sorted(k for k in context if k not in ("params", "scenario")))
        raise ConfigError(_at(where, at, f"{exc.message}; known parameters: {known or 'none'}"
                              " (declare it under `parameters:` in the environment)")) from None
    except jinja2.TemplateError as exc:
        raise ConfigError(_at(where, _template_line(exc, name), f"template error: {exc}")) \
            from None
    except Exception as exc:  # noqa: BLE001 - `{{ 1 / 0 }}`, `{{ 1 + 'x' }}`, include...
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(_at(where, _template_line(exc, name),
                              f"template error: {type(exc).__name__}: {what}")) from None


def _template_line(exc: BaseException, name: str) -> int | None:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
    return lines[-1] if lines else None


def _at(where: Problem, template_line: int | None, message: str) -> Problem:
    line = where.line
    if template_line is not None:
        # A template file starts at line 1; an inline value starts on its YAML line.
        line = template_line if where.line is None else where.line + template_line - 1
    return Problem(where.file, line, where.path, message)
