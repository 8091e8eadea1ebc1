"""Reply shaping: model text becomes chat bubbles whose createdAt values are spaced like typing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from novaro_lite.domain.arrival import BUBBLE_PAUSE_SECONDS, MAX_TYPING_SECONDS, keystrokes
from novaro_lite.domain.messages import ChatMessage

_BREAK = re.compile(r"\r?\n[ \t\r]*\n\s*")
_LINES = re.compile(r"[\r\n]")
_FENCES = ("```", "~~~")  # a Markdown code block's fence: no bubble is cut inside one


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith(_FENCES)


class BubbleSplitter:
    """Cut streamed text into bubbles at blank lines outside fenced code blocks (a block stays whole, its blank
    lines and indentation with it); the last bubble keeps whatever exceeds max_bubbles."""

    def __init__(self, max_bubbles: int) -> None:
        self._max = max_bubbles
        self._pending = ""
        self._emitted = 0
        self._searched = 0  # _pending before this holds no break still to judge
        self._counted = 0  # _pending before this is whole lines, their fences counted in _fenced
        self._fenced = False

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; return the bubbles that are now complete."""
        self._pending += delta
        done: list[str] = []
        while self._emitted < self._max - 1 and (match := _BREAK.search(self._pending, self._searched)):
            if self._in_code_at(match.start()):
                self._searched = match.end()
                continue
            bubble = self._pending[: match.start()].strip()
            self._pending, self._searched, self._counted = self._pending[match.end() :], 0, 0
            if bubble:
                done.append(bubble)
                self._emitted += 1
        # No break before the last line break (a \r before it included) can complete any more: the next search
        # starts there, so text without breaks (a model's thousands of spaces) is searched once, not every time.
        last = self._pending.rfind("\n", self._searched)
        self._searched = max(self._searched, (len(self._pending) if last < 0 else last) - 1)
        return done

    def _in_code_at(self, end: int) -> bool:
        """Whether a code block is open at `end`, where a break starts (so after whole lines); each line is
        looked at once, however many breaks and feeds come."""
        fences = sum(1 for line in _LINES.split(self._pending[self._counted : end]) if _is_fence(line))
        self._fenced ^= fences % 2 == 1
        self._counted = end
        return self._fenced

    @property
    def pending(self) -> str:
        """The text of the bubble still being written, as it came (leading and trailing whitespace included)."""
        return self._pending

    def finish(self) -> list[str]:
        """Return the last bubble once the text is complete (none if only whitespace is left)."""
        rest, self._pending = self._pending.strip(), ""
        return [rest] if rest else []


class SaidStream:
    """Streamed model text as the agent says it, as it arrives: cut into bubbles as BubbleSplitter cuts them,
    each made `said(bubble)` (which drops a prefix and leaves no leading whitespace: persona.spoken), empty ones
    left out.

    `feed` and `finish` return the text to show now and the bubbles now complete. The texts, concatenated,
    equal "\\n\\n".join of the bubbles, so a client showing them as they come shows what the bubbles say. The
    start of a bubble that `undecided` says may still grow into a dropped prefix is held until it is known.
    """

    def __init__(self, max_bubbles: int, said: Callable[[str], str], undecided: Callable[[str], bool]) -> None:
        self._splitter = BubbleSplitter(max_bubbles)
        self._said = said
        self._undecided = undecided
        self._shown = False  # some bubble's text has been shown: the next one's starts after a blank line
        self._skip: int | None = None  # where the current bubble's said text starts, once known
        self._upto = 0  # how much of the current bubble (raw) has been shown
        self._seen = 0  # how much of the current bubble (raw) has been looked at for its last non-space
        self._end = 0  # where the current bubble's text ends as far as known: after its last non-space

    def feed(self, delta: str) -> tuple[str, list[str]]:
        out: list[str] = []
        done = [self._complete(bubble, out) for bubble in self._splitter.feed(delta)]
        self._partial(out)
        return "".join(out), [bubble for bubble in done if bubble]

    def finish(self) -> tuple[str, list[str]]:
        out: list[str] = []
        done = [self._complete(bubble, out) for bubble in self._splitter.finish()]
        return "".join(out), [bubble for bubble in done if bubble]

    def _complete(self, bubble: str, out: list[str]) -> str:
        """A whole bubble: show what of it was not shown yet; return it as said."""
        said = self._said(bubble)
        shown = 0 if self._skip is None else max(0, self._upto - self._skip)
        self._show(said[shown:], shown == 0, out)
        self._skip, self._upto, self._seen, self._end = None, 0, 0, 0
        return said

    def _partial(self, out: list[str]) -> None:
        """The bubble still being written: show what of it is known to stay, trailing whitespace held back.

        Each call looks at the new text only (a model may send thousands of whitespace tokens: looking back over
        them each time would stall the event loop), but for a bubble's start, whose prefix is bounded."""
        text = self._splitter.pending
        kept = len(text[self._seen :].rstrip())
        if kept:
            self._end = self._seen + kept
        self._seen = len(text)
        if self._end <= max(self._upto, self._skip or 0):
            return  # only whitespace came, or nothing yet
        if self._skip is None:
            start = text.lstrip()
            if self._undecided(start):
                return
            self._skip = len(text) - len(self._said(start))
        if self._upto <= self._skip:  # nothing shown yet: the said text starts at its first non-space
            self._skip = len(text) - len(text[self._skip :].lstrip())
        begin = max(self._skip, self._upto)
        if self._end > begin:
            self._show(text[begin : self._end], begin == self._skip, out)
            self._upto = self._end

    def _show(self, text: str, first: bool, out: list[str]) -> None:
        if not text:
            return
        if first and self._shown:
            out.append("\n\n")
        out.append(text)
        self._shown = True


def split_bubbles(text: str, max_bubbles: int) -> list[str]:
    splitter = BubbleSplitter(max_bubbles)
    return splitter.feed(text) + splitter.finish()


class Thoughts:
    """Drops the reasoning block (`<think>…</think>`) that reasoning models served locally (Ollama, llama.cpp,
    LM Studio) may put before the answer, as it streams in: it is never meant for the user."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._held = ""
        self._state: Literal["start", "thinking", "said"] = "start"

    def feed(self, delta: str) -> str:
        """The part of the text that is the answer, as far as it is known."""
        if self._state == "said":
            return delta
        self._held += delta
        if self._state == "start":
            head = self._held.lstrip()
            if self.OPEN.startswith(head):  # nothing yet, or what may still become the tag
                return ""
            if not head.startswith(self.OPEN):
                self._state = "said"
                return self._flush()
            self._state, self._held = "thinking", head[len(self.OPEN) :]
        end = self._held.find(self.CLOSE)
        if end < 0:
            self._held = self._held[-(len(self.CLOSE) - 1) :]  # only what may be the start of the close tag
            return ""
        self._state, self._held = "said", self._held[end + len(self.CLOSE) :]
        return self._flush()

    def finish(self) -> str:
        """What is left once the text is complete: nothing of an unclosed block."""
        return self._flush() if self._state == "start" else ""

    def _flush(self) -> str:
        out, self._held = self._held, ""
        return out


def without_thoughts(text: str) -> str:
    thoughts = Thoughts()
    return thoughts.feed(text) + thoughts.finish()


class Typist:
    """Stamps a realtime reply's bubbles as its agent types them: the first at `start`, each next one after a
    pause and the time to type it at `speed` characters a second, at most MAX_TYPING_SECONDS in all (the async
    path's rule, domain/arrival.py); an agent that does not type sends them all at once."""

    def __init__(self, start: int, speed: float | None) -> None:
        self._start = start
        self._speed = speed
        self._typed = 0.0
        self._sent = 0

    def stamp(self, bubble: str) -> ChatMessage:
        if self._sent and self._speed is not None:
            self._typed = min(MAX_TYPING_SECONDS, self._typed + BUBBLE_PAUSE_SECONDS + keystrokes(bubble) / self._speed)
        self._sent += 1
        return ChatMessage("assistant", bubble, self._start + round(self._typed))
