"""What an image reference may look like (the OCI distribution grammar, as engines check it)."""

from __future__ import annotations

import re

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:{_HOST}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?$")

RULES = ("lower-case names (a-z 0-9 and . _ -) separated by /, an optional registry host "
         "first, an optional :tag, e.g. repro-base/debian:bookworm or postgres:16")


def is_valid(ref: str) -> bool:
    return len(ref) <= 255 and bool(_REFERENCE.match(ref))
