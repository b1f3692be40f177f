"""Make the policy pack's package importable without installing the repo."""
from __future__ import annotations

import sys
from pathlib import Path

_PACK = Path(__file__).resolve().parents[2] / "policy" / "soc2"
if str(_PACK) not in sys.path:
    sys.path.insert(0, str(_PACK))
