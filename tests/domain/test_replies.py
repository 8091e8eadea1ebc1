from __future__ import annotations

from hypothesis import given, strategies as st

from novaro_lite.domain.arrival import MAX_TYPING_SECONDS
from novaro_lite.domain.persona import may_grow_unspoken, spoken
from novaro_lite.domain.replies import (
    BubbleSplitter,
    SaidStream,
    Thoughts,
    Typist,
    split_bubbles,
    without_thoughts,
)


def test_split_bubbles_cuts_at_blank_lines_and_trims():
    assert split_bubbles("  Hi!\n\nHow are you?\n \n\nBye  ", 3) == ["Hi!", "How are you?", "Bye"]
    assert split_bubbles("one line\nnext line", 3) == ["one line\nnext line"]
    assert split_bubbles("Windows\r\n\r\nline ends", 3) == ["Windows", "line ends"]


def test_split_bubbles_keeps_the_overflow_in_the_last_bubble():
    assert split_bubbles("a\n\nb\n\nc\n\nd", 2) == ["a", "b\n\nc\n\nd"]
    assert split_bubbles("a\n\nb", 1) == ["a\n\nb"]


def test_a_fenced_code_block_stays_in_one_bubble_with_its_blank_lines_and_indentation():
    """Code was cut at its blank lines and the next line's indentation lost: broken Python on /v1 too."""
    text = "Here's the fix:\n\n```python\ndef f():\n    x = 1\n\n    return x\n```\n\nTry it!"
    assert split_bubbles(text, 3) == [
        "Here's the fix:",
        "```python\ndef f():\n    x = 1\n\n    return x\n```",
        "Try it!",
    ]
    stream = SaidStream(3, str.strip, lambda start: False)
    shown = [stream.feed(character)[0] for character in text]
    assert "".join(shown) + stream.finish()[0] == text  # streamed a character at a time, the block stays whole
    unclosed = "Look:\n\n~~~\na\n\nb"  # a block the model never closed runs to the end
    assert split_bubbles(unclosed, 3) == ["Look:", "~~~\na\n\nb"]


def test_split_bubbles_of_blank_text_is_empty():
    assert split_bubbles(" \n\n \n", 3) == []


@given(
    text=st.lists(st.sampled_from(["a", "b", " ", "\n", "\t", ".", "```", "~~~", "\r", "\x0b"]), max_size=40).map(
        "".join
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8),
    max_bubbles=st.integers(min_value=1, max_value=4),
)
def test_streamed_splitting_matches_whole_text_splitting(text, cuts, max_bubbles):
    splitter, bubbles, start = BubbleSplitter(max_bubbles), [], 0
    for cut in sorted(cuts) + [len(text)]:
        bubbles += splitter.feed(text[start:cut])
        start = max(start, cut)
    bubbles += splitter.finish()
    assert bubbles == split_bubbles(text, max_bubbles)
    assert len(bubbles) <= max_bubbles


def test_a_typist_spaces_bubbles_by_typing_time_at_its_speed():
    typist = Typist(1000, 4.0)
    messages = [typist.stamp("Hi!"), typist.stamp("That is a longer message to type.")]  # 33 characters
    assert [m.created_at for m in messages] == [1000, 1000 + 1 + 8]  # a 1 s pause, then 33 / 4 s of typing
    assert all(m.role == "assistant" for m in messages)
    slow = Typist(0, 5 * 5 / 60)  # 5 wpm: a 1,000-character bubble would take 40 minutes
    assert [slow.stamp("x" * 1000).created_at for _ in range(2)] == [0, MAX_TYPING_SECONDS]  # pasted past 15
    still = Typist(1000, None)  # an agent that does not type sends every bubble at once
    assert [still.stamp(text).created_at for text in ("a", "bcd")] == [1000, 1000]


@given(st.lists(st.integers(0, 60), max_size=6))
def test_a_reasoning_block_before_the_answer_is_dropped_however_it_streams_in(cuts):
    text = "<think>\nThey ask about dinner.\n</think>\n\nPasta!\n\nCome over at 8."
    thoughts, bounds = Thoughts(), sorted(cut % (len(text) + 1) for cut in cuts)
    parts = [text[start:end] for start, end in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    assert "".join(thoughts.feed(part) for part in parts) + thoughts.finish() == "\n\nPasta!\n\nCome over at 8."


def test_only_a_leading_reasoning_block_is_dropped():
    assert without_thoughts("I <think>so</think>.") == "I <think>so</think>."  # the answer's own words
    assert without_thoughts("<think>cut off by max_tokens") == ""  # no answer at all: an empty reply
    assert without_thoughts("<thinking>aloud") == "<thinking>aloud"


@given(
    st.lists(
        st.sampled_from(
            [
                "[sent Tue 14 Nov 22:14] ",
                "[sent ",
                "]",
                "] ",
                "Lena:",
                "Lena",
                "Lee:",
                "Le",
                " ",
                "\n\n",
                "\n",
                "hi",
                "x y",
                "```",
                "[",
                "s",
                ":",
            ]
        ),
        max_size=24,
    ),
    st.integers(min_value=1, max_value=4),
    st.sampled_from([(), ("Lena",), ("Lee", "Lena")]),
    st.data(),
)
def test_said_stream_shows_what_its_bubbles_say_however_the_text_streams_in(pieces, max_bubbles, names, data):
    """Streamed, the text shown equals the bubbles joined by blank lines, and the bubbles are those of the whole
    text as the agent says them: a copied "[sent …]" tag or "Name:" never shows, even for a moment."""
    text = "".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    parts = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    stream = SaidStream(max_bubbles, lambda bubble: spoken(bubble, names), lambda s: may_grow_unspoken(s, names))
    shown, bubbles = [], []
    for part in parts:
        text_now, done = stream.feed(part)
        shown.append(text_now)
        bubbles += done
    text_now, done = stream.finish()
    shown.append(text_now)
    bubbles += done
    expected = [said for said in (spoken(bubble, names) for bubble in split_bubbles(text, max_bubbles)) if said]
    assert bubbles == expected
    assert "".join(shown) == "\n\n".join(expected)
