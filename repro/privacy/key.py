"""The project's pseudonymisation key: kept out of the repository, made on first use.

Without it a token cannot be traced back to its value (HMAC-SHA256 is one-way); with it,
the same value always gives the same token, in every file and every later redaction."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from repro.errors import ConfigError

ENV_VAR = "REPRO_PRIVACY_KEY"
MIN_LENGTH = 16


def key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "repro" / "privacy.key"


def load_key() -> tuple[bytes, str]:
    """The key's bytes and where it came from: $REPRO_PRIVACY_KEY, else the key file
    (created with 32 random bytes and mode 0600 when missing)."""
    given = os.environ.get(ENV_VAR)
    if given is not None:
        if len(given.strip()) < MIN_LENGTH:
            raise ConfigError(f"{ENV_VAR}: at least {MIN_LENGTH} characters (e.g. `openssl "
                              "rand -hex 32`)")
        return given.strip().encode(), f"${ENV_VAR}"
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # O_EXCL: two redactions starting at once keep the first key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    if len(text) < MIN_LENGTH:
        raise ConfigError(f"{path}: the privacy key is shorter than {MIN_LENGTH} characters; "
                          "delete the file to make a new one (earlier tokens then change)")
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path}: readable by others; `chmod 600 {path}`")
    return text.encode(), str(path)
