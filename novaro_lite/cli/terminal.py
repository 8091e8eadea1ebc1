"""What reaches the operator's terminal: every line a command prints goes through say(), which escapes
control characters.

Names, references and replies are set by API clients, and a terminal obeys what it is sent: an escape
sequence can recolour, retitle or clear it, and a carriage return overwrites the start of a row. So C0 and
C1 controls, DEL and the bidirectional overrides are written as escapes (`\\r`, `\\u001b`), which are also
valid inside a JSON string, so JSON output stays JSON.
"""

from __future__ import annotations

import re

import click

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape; printable text unchanged."""
    return _UNSAFE.sub(lambda match: _SHORT.get(match[0]) or f"\\u{ord(match[0]):04x}", text)


def say(text: str, *, err: bool = False) -> None:
    """Print one line (several when `text` has line breaks: each is escaped apart)."""
    click.echo("\n".join(escape_controls(line) for line in text.split("\n")), err=err)


class CliError(click.ClickException):
    """A command's failure, printed with its control characters escaped like every other line."""

    def format_message(self) -> str:
        return escape_controls(self.message)
