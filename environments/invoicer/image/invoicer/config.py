"""Read /etc/invoicer/invoicer.ini (or $INVOICER_CONFIG)."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = "/etc/invoicer/invoicer.ini"

# How dates are written in a customer's export, by locale (ISO 8601 is always accepted).
DATE_FORMATS = {
    "de_DE": "%d.%m.%Y",
    "fr_FR": "%d/%m/%Y",
    "en_GB": "%d/%m/%Y",
    "en_US": "%m/%d/%Y",
    "nl_NL": "%d-%m-%Y",
}


class InvoicerError(Exception):
    """A problem the user can fix: printed as one line, exit code 2."""


@dataclass(frozen=True)
class Settings:
    path: Path
    company: str
    locale: str
    decimal_separator: str
    currency: str
    license_key: str
    data_dir: Path

    @property
    def date_format(self) -> str:
        return DATE_FORMATS[self.locale]

    @property
    def csv_delimiter(self) -> str:
        # Spreadsheets that write decimal commas separate fields with semicolons.
        return ";" if self.decimal_separator == "," else ","


def load() -> Settings:
    path = Path(os.environ.get("INVOICER_CONFIG", DEFAULT_PATH))
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise InvoicerError(f"cannot read the configuration {path}: {exc.strerror}") from None

    def get(section: str, key: str, default: str | None = None) -> str:
        value = parser.get(section, key, fallback=default)
        if value is None or not value.strip():
            raise InvoicerError(f"{path}: [{section}] {key} is not set")
        return value.strip()

    settings = Settings(
        path=path,
        company=get("company", "name"),
        locale=get("formats", "locale", "en_US"),
        decimal_separator=get("formats", "decimal_separator", "."),
        currency=get("formats", "currency", "EUR"),
        license_key=parser.get("license", "key", fallback="").strip(),
        data_dir=Path(get("storage", "data_dir", "/var/lib/invoicer")),
    )
    if settings.locale not in DATE_FORMATS:
        raise InvoicerError(f"{path}: unsupported locale {settings.locale!r} "
                            f"(supported: {', '.join(DATE_FORMATS)})")
    if settings.decimal_separator not in (".", ","):
        raise InvoicerError(f"{path}: decimal_separator must be '.' or ','")
    return settings
