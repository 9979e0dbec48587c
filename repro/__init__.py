"""repro: reproduce customer issues in declarative Docker sandboxes."""

__version__ = "0.1.0"
