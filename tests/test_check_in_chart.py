"""The check-in week picture in docs/api.md is drawn from the check-in draw, and the committed SVG is what it draws
today (the script also asserts that no draw landed in an hour where none may)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check-in-week"


def test_the_check_in_week_chart_is_up_to_date():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + "\nrun: .venv/bin/python scripts/check-in-week"
