"""What masking promises: a secret and its common encodings never survive, even when written
in pieces; what it does not promise is documented in `repro.redact.forms`."""

from __future__ import annotations

import base64
import io
import json
import shlex
from urllib.parse import quote, quote_plus

import pytest

from repro.redact import MASK, MaskingWriter, Redactor

SECRETS = ['P\u00e4ssw\u00f6rt-93!', 'quote"and\\slash', "it's a/secret?&=x", "plainsecret"]


def _encodings(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "tojson": json.dumps(secret),
        "tojson-unicode": json.dumps(secret, ensure_ascii=False),
        "python": repr(secret),
        "shell": shlex.quote(secret),
        "url": quote(secret, safe=""),
        "url-form": quote_plus(secret),
        "base64": base64.b64encode(raw).decode(),
        "base64-url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "reversed": secret[::-1],
    }


@pytest.mark.parametrize("secret", SECRETS)
def test_every_common_encoding_of_a_secret_is_masked(secret):
    redactor = Redactor([secret])
    for name, encoded in _encodings(secret).items():
        shown = redactor.text(f"before {encoded} after")
        assert MASK in shown, name
        assert encoded.strip("'\"") not in shown, name


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b"\x00\x01"])
def test_a_secret_inside_a_longer_base64_blob_is_masked_at_any_offset(prefix):
    secret = "tenant-key-7781"
    blob = base64.b64encode(prefix + secret.encode() + b" and more data").decode()
    shown = Redactor([secret]).text(blob)
    assert MASK in shown
    # What is left cannot be decoded back to the secret.
    assert secret not in base64.b64decode(shown.replace(MASK, "") + "===", validate=False) \
        .decode("latin-1")


def test_short_secrets_are_masked_as_written_only():
    redactor = Redactor(["abc"])
    assert redactor.text("abc 616263 YWJj") == f"{MASK} 616263 YWJj"


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_the_masking_writer_masks_a_secret_split_across_writes(size):
    secret = 'P\u00e4ssw\u00f6rt"93'
    text = ("x" * 50 + json.dumps(secret) + " y " + secret + "\n") * 3
    data = text.encode()
    target = io.BytesIO()
    writer = MaskingWriter(target, Redactor([secret]))
    for start in range(0, len(data), size):
        writer.write(data[start:start + size])
    written_before_close = target.getvalue()
    writer.close()
    out = target.getvalue().decode()
    assert secret not in out and json.dumps(secret)[1:-1] not in out
    assert out.count(MASK) == 6
    assert out.replace(MASK, "") == text.replace(json.dumps(secret)[1:-1], "") \
        .replace(secret, "")
    # Only a secret's length is ever held back: the rest is on disk already.
    assert len(written_before_close) >= len(data) - 6 * 12 - 40


def test_the_masking_writer_without_secrets_passes_bytes_through():
    target = io.BytesIO()
    writer = MaskingWriter(target, Redactor())
    writer.write(b"\xff\x00binary")
    assert target.getvalue() == b"\xff\x00binary"
