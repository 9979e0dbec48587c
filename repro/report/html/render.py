"""Pages as one self-contained HTML file each: Jinja2 with autoescaping, the CSS and the
script inline, and a Content-Security-Policy that lets only that script run and nothing
load from anywhere (an attachment opened offline looks the same)."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Any

from repro import __version__
from repro.report.controls import escaped


@cache
def _asset(name: str) -> str:
    return resources.files("repro.report.html").joinpath("templates", name).read_text(
        encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _csp(css: str, js: str) -> str:
    """Nothing from the network, no other script or style than ours: were some text ever
    left unescaped, it could still not run."""
    return (f"default-src 'none'; style-src {_hash(css)}; script-src {_hash(js)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def _visible(value: Any) -> Any:
    """Control characters (a terminal's colour codes, a NUL) as `\x1b`: shown, not
    swallowed by the browser. Tabs, line breaks and carriage returns stay: a browser
    shows them as white space. The page's own markup (Markup) is left as it is."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return escaped(value, keep="\t\n\r")
    return value


@cache
def _environment() -> Any:
    import jinja2  # lazily: `repro --help` does not pay for it

    return jinja2.Environment(
        loader=jinja2.PackageLoader("repro.report.html", "templates"),
        autoescape=True, trim_blocks=False, finalize=_visible,
        # A record of an older or newer repro may lack a key: shown empty, not a crash.
        undefined=jinja2.ChainableUndefined)


def render(template: str, **context: Any) -> str:
    from markupsafe import Markup

    css, js = _asset("page.css"), _asset("page.js")
    return _environment().get_template(template).render(
        css=Markup(css), js=Markup(js), csp=_csp(css, js), version=__version__, **context)
