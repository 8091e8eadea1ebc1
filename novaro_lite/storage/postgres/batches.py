"""A group-commit batch in one round trip: its statements travel together to a function on the server.

asyncpg sends one statement per round trip (only `executemany` pipelines, and it does not tell its rows'
counts apart), and a batch of bookkeeping holds many: a delivery's reply and its attempt are three. So a
batch travels whole to `novaro_run` (schema.py, migration 8), which runs its statements in order with
EXECUTE … USING, in the one transaction of that call, and returns their row counts. A batch's inserts of
one statement become one INSERT of all their rows, sent as a JSON array. (The claim is one call too:
claims.py.)

Parameters stay bound, never written into SQL: a statement's parameters are one JSON array (its USING), in a
JSON array of every statement's, and each `?` becomes `$1->>k` cast to its value's type: bool boolean, int
bigint, float double precision, str text, bytes bytea, a list of str text[]. Only None is written, as NULL: its
column's type is not known here, and an untyped NULL takes the column's (a store must not rely on more: a `?`
in a context of another type than its value's is an error here that it is not on SQLite). Reading each
statement's array is constant time, so a batch costs time in proportion to its size. What EXECUTE costs in
return, a plan per statement, is measured in docs/benchmarks.md.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Sequence
from typing import Any

from novaro_lite.storage.group_commit import Batch

# Runs a batch: its statements, and a JSON array holding each one's parameters; answers each one's row count.
RUN_SQL = "SELECT novaro_run($1::text[], $2::jsonb)"
# How a statement reads each kind of value from its JSON array of parameters ($1); None is written as NULL.
_READ = {
    bool: "($1->>{})::boolean",
    int: "($1->>{})::bigint",
    float: "($1->>{})::float8",  # sent as text: JSON has no infinity
    str: "($1->>{})",
    bytes: "decode($1->>{}, 'hex')",
    list: "ARRAY(SELECT jsonb_array_elements_text($1->{}))",  # a list of strings
}


def _kind(value: Any) -> type | None:
    """The type a parameter is read back as (None: written as NULL): its value's, as the module says."""
    if value is None:
        return None
    kind = type(value)
    if kind is tuple:
        kind = list
    if kind is list and not all(isinstance(item, str) for item in value):
        raise TypeError(f"a list parameter must hold strings only (it is read as text[]): {value!r}")
    if kind not in _READ:
        raise TypeError(f"a statement's parameter of type {kind.__name__} cannot be sent: {value!r}")
    return kind


def _sent(value: Any) -> Any:
    """A parameter as its statement's JSON array holds it."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    return list(value) if isinstance(value, tuple) else value


@functools.lru_cache(maxsize=4096)
def _template(sql: str, kinds: tuple[type | None, ...]) -> str:
    parts = sql.split("?")
    if len(parts) != len(kinds) + 1:
        raise ValueError(f"{len(kinds)} parameters for {len(parts) - 1} placeholders in {sql!r}")
    out, number = [parts[0]], 0
    for kind, rest in zip(kinds, parts[1:], strict=True):
        if kind is None:
            out.append("NULL")
        else:
            out.append(_READ[kind].format(number))
            number += 1
        out.append(rest)
    return "".join(out)


def bound(sql: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """`sql` (with `?` placeholders) as EXECUTE … USING takes it, and the JSON array of parameters it reads."""
    return _template(sql, tuple(map(_kind, params))), [_sent(value) for value in params if value is not None]


@functools.lru_cache(maxsize=64)
def _insert_all(sql: str) -> tuple[str, tuple[str, ...]]:
    """An `INSERT INTO t (…) VALUES (…)` of one row as the INSERT of every row of a JSON array (one plan,
    whatever the count; a multi-row VALUES with a parameter each grew quadratically in PostgreSQL's time), and
    the columns its `?`s fill, which each row's object names."""
    found = re.fullmatch(r"INSERT INTO (\w+) \(([^)]*)\) VALUES \((.*)\)", sql, re.DOTALL)
    columns, items = ([part.strip() for part in found[group].split(",")] for group in (2, 3)) if found else ([], [])
    if not found or len(columns) != len(items) or any("?" in item for item in items if item != "?"):
        raise ValueError(f"not an INSERT … VALUES (…) of one row, each value a `?` or a constant: {sql!r}")
    select = ", ".join(f"given.{column}" if item == "?" else item for column, item in zip(columns, items, strict=True))
    statement = (
        f"INSERT INTO {found[1]} ({', '.join(columns)}) SELECT {select}"
        f" FROM jsonb_populate_recordset(NULL::{found[1]}, $1) AS given"
    )
    return statement, tuple(column for column, item in zip(columns, items, strict=True) if item == "?")


def _bytea(value: Any) -> str:
    """A value JSON has no form for: bytes, as bytea's text form (anything else is a bug: TypeError)."""
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    raise TypeError(f"a row's value of type {type(value).__name__} cannot be sent: {value!r}")


@dataclasses.dataclass
class Shipment:
    """A batch as `novaro_run` takes it (RUN_SQL's arguments), and how to read its answer back per write."""

    batch: Batch
    statements: list[str] = dataclasses.field(default_factory=list)
    params: list[Any] = dataclasses.field(default_factory=list)  # each statement's JSON array (or rows, inserting)

    @classmethod
    def of(cls, batch: Batch) -> Shipment:
        shipment = cls(batch)
        for sql, rows in batch.inserts.items():
            statement, columns = _insert_all(sql)
            shipment.statements.append(statement)
            shipment.params.append([dict(zip(columns, row, strict=True)) for row in rows])
        for sql, params in (statement for statements in batch.writes for statement in statements):
            statement, sent = bound(sql, params)
            shipment.statements.append(statement)
            shipment.params.append(sent)
        return shipment

    def args(self) -> tuple[list[str], str]:
        # No infinity (allow_nan): a row inserted holds no float, and a statement's floats are sent as text.
        return self.statements, json.dumps(self.params, ensure_ascii=False, allow_nan=False, default=_bytea)

    def counts(self, counts: Sequence[int]) -> list[list[int]]:
        """Each write's row counts, from every statement's (the inserts' first, which nobody reads)."""
        answer, at = [], len(self.batch.inserts)
        for statements in self.batch.writes:
            answer.append(list(counts[at : at + len(statements)]))
            at += len(statements)
        return answer
