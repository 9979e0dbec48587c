"""invoicer: imports a customer's invoice lines and totals them per customer.

A stand-in for a software vendor's product, used by repro's demo. The code here is
shared by every release; only `amounts.py` differs, under `releases/<version>/`, and
the image build copies the one of the release it installs (build arg APP_VERSION).
"""

from pathlib import Path

_VERSION_FILE = Path(__file__).with_name("VERSION")  # written by the image build

__version__ = _VERSION_FILE.read_text().strip() if _VERSION_FILE.is_file() else "dev"
