"""repro: reproduce customer issues in declarative Docker sandboxes."""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]),
# `repro --version` and every run record show it.
__version__ = "0.1.0"
