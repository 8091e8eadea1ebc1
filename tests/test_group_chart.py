"""The group picture in docs/api.md is drawn from the group model, and the committed SVG is what it draws today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "group-evening"


def test_the_group_evening_chart_is_up_to_date():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + "\nrun: .venv/bin/python scripts/group-evening"
