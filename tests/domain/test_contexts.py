from __future__ import annotations

import pytest

from novaro_lite.domain.contexts import APPLIES, Context, Keywords, merged_ids, trigger, triggers


@pytest.mark.parametrize(
    ("keywords", "recent", "expected"),
    [
        (Keywords(), [], True),  # no keys: always
        (Keywords(("bread",)), ["Any BREAD left?"], True),  # case is ignored by default
        (Keywords(("bread",), case_sensitive=True), ["Any BREAD left?"], False),
        (Keywords(("Bread",), case_sensitive=True), ["Bread, please"], True),
        (Keywords(("bread", "rolls")), ["cinnamon rolls"], True),  # any one key
        (Keywords(("bread",), scan_depth=2), ["bread?", "no", "yes"], False),  # beyond the last two messages
        (Keywords(("bread",), scan_depth=3), ["bread?", "no", "yes"], True),
        (Keywords(("bread",), secondary_keys=("rye",), selective=True), ["bread?"], False),
        (Keywords(("bread",), secondary_keys=("rye",), selective=True), ["rye", "bread?"], True),
        (Keywords(("bread",), secondary_keys=("rye",), selective=False), ["bread?"], True),  # not selective
        (Keywords(("bread",), selective=True), ["bread?"], True),  # selective without secondary keys
        (Keywords(("", " ")), ["anything"], False),  # only blank keys: nothing can match (it was always in)
        (Keywords(("E\u0301mile",)), ["\u00c9MILE called"], True),  # a combining accent is the letter
        (Keywords(("\u00e9mile",)), ["Emile", "e\u0301mile"], True),  # either way round
        (Keywords(("", "bread")), ["anything"], False),  # an empty key matches nothing
        (Keywords(("brot",)), ["Schwarzbrot"], True),  # substring, as the card specs match
        (Keywords(("東京",)), ["私は東京にいます"], True),  # no word boundaries needed
    ],
)
def test_keyword_context_applies_only_when_a_key_occurs_recently(keywords, recent, expected):
    assert (trigger(keywords, recent) in APPLIES) is expected


def test_triggers_say_why_each_context_enters_in_order():
    def context(name: str, keys: tuple[str, ...] = (), secondary: tuple[str, ...] = ()) -> Context:
        return Context(name, "acme", name, "text", 0, 0, Keywords(keys, secondary_keys=secondary, selective=True))

    found = [context("a"), context("b", ("x",)), context("c", ("y",)), context("d", ("y",), ("z",))]
    assert triggers(found, ["y?"]) == ["always", "no_key", "key", "no_secondary_key"]
    assert merged_ids(["a", "b"], ["b", "c"]) == ("a", "b", "c")
