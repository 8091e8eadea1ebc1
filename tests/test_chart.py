"""The timing chart in docs/api.md is drawn from the model, and the committed SVG is what the model draws today."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "conversation-chart"


def test_the_conversation_chart_is_up_to_date():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + "\nrun: .venv/bin/python scripts/conversation-chart"


def test_the_medians_the_api_guide_states_are_the_charts():
    """docs/api.md quotes the chart's medians: they must be the ones the committed chart shows."""
    root = SCRIPT.parent.parent
    medians = re.findall(r"median ([\d.]+ (?:s|min))<", (root / "docs" / "conversation-timing.svg").read_text())
    guide = " ".join((root / "docs" / "api.md").read_text().split())
    assert len(medians) == 3 and all(f"median {median}" in guide for median in medians), medians
