"""A group-commit batch in one round trip: its statements travel together to a function on the server.

asyncpg sends one statement per round trip (only `executemany` pipelines, and it does not tell its rows'
counts apart), and a batch of bookkeeping holds many: a delivery's reply and its attempt are three. So a
batch travels whole to `novaro_run` (schema.py, migration 8), which runs its statements in order with
EXECUTE … USING, in the one transaction of that call, and returns their row counts. A batch's inserts of
one statement become one INSERT of all their rows, sent as a JSON array. (The claim is one call too:
claims.py.)

Parameters stay bound, never written into SQL: a statement's parameters are one text[] (its USING), and each
`?` becomes `$1[k]` cast to its value's type. Only None is written, as NULL: its column's type is not known
here, and an untyped NULL takes the column's. What EXECUTE costs in return, a plan per statement, is
measured in docs/benchmarks.md.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Sequence
from typing import Any

from novaro_lite.storage.group_commit import Batch

# Runs a batch: its statements, the parameters of all of them, and where each statement's begin (1-based,
# one past the last at the end); answers each statement's row count.
RUN_SQL = "SELECT novaro_run($1::text[], $2::text[], $3::integer[])"
# How each kind of value is read back from its text; None is written as NULL.
_READ = {
    bool: "$1[{}]::boolean",
    int: "$1[{}]::bigint",
    float: "$1[{}]::float8",
    str: "$1[{}]",
    bytes: "decode($1[{}], 'hex')",
    list: "ARRAY(SELECT jsonb_array_elements_text($1[{}]::jsonb))",  # a list of strings
}


def _kind(value: Any) -> type | None:
    kind = type(value)
    if value is None or kind in _READ:
        return None if value is None else kind
    if kind is tuple:
        return list
    raise TypeError(f"a statement's parameter of type {kind.__name__} cannot be sent: {value!r}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return value if isinstance(value, str) else repr(value)


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
            number += 1
            out.append(_READ[kind].format(number))
        out.append(rest)
    return "".join(out)


def bound(sql: str, params: Sequence[Any]) -> tuple[str, list[str]]:
    """`sql` (with `?` placeholders) as EXECUTE … USING takes it, and the text[] of parameters it reads."""
    return _template(sql, tuple(map(_kind, params))), [_text(value) for value in params if value is not None]


@functools.lru_cache(maxsize=64)
def _insert_all(sql: str) -> tuple[str, tuple[str, ...]]:
    """An `INSERT INTO t (…) VALUES (…)` of one row as the INSERT of every row of a JSON array (one plan,
    whatever the count; a multi-row VALUES with a parameter each grew quadratically in PostgreSQL's time), and
    the columns its `?`s fill, which each row's object names."""
    found = re.fullmatch(r"INSERT INTO (\w+) \(([^)]*)\) VALUES \((.*)\)", sql, re.DOTALL)
    columns, items = ([part.strip() for part in found[group].split(",")] for group in (2, 3)) if found else ([], [])
    if not found or len(columns) != len(items):
        raise ValueError(f"not an INSERT … VALUES (…) of one row with a value per column: {sql!r}")
    select = ", ".join(f"given.{column}" if item == "?" else item for column, item in zip(columns, items, strict=True))
    statement = (
        f"INSERT INTO {found[1]} ({', '.join(columns)}) SELECT {select}"
        f" FROM jsonb_populate_recordset(NULL::{found[1]}, $1[1]::jsonb) AS given"
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

    statements: list[str] = dataclasses.field(default_factory=list)
    params: list[str] = dataclasses.field(default_factory=list)
    starts: list[int] = dataclasses.field(default_factory=lambda: [1])
    writes: list[int] = dataclasses.field(default_factory=list)  # how many statements each write has

    @classmethod
    def of(cls, batch: Batch) -> Shipment:
        shipment = cls()
        for sql, rows in batch.inserts.items():
            statement, columns = _insert_all(sql)
            shipment.statements.append(statement)
            # No infinity (allow_nan): no column a batch inserts holds a float.
            rows_json = json.dumps(
                [dict(zip(columns, row, strict=True)) for row in rows], allow_nan=False, default=_bytea
            )
            shipment.params.append(rows_json)
            shipment.starts.append(len(shipment.params) + 1)
        inserts = len(shipment.statements)
        for statements in batch.writes:
            for sql, params in statements:
                shipment._add(sql, params)
            shipment.writes.append(len(statements))
        shipment.writes.insert(0, inserts)
        return shipment

    def _add(self, sql: str, params: Sequence[Any]) -> None:
        statement, texts = bound(sql, params)
        self.statements.append(statement)
        self.params.extend(texts)
        self.starts.append(len(self.params) + 1)

    def args(self) -> tuple[list[str], list[str], list[int]]:
        return self.statements, self.params, self.starts

    def counts(self, counts: Sequence[int]) -> list[list[int]]:
        """Each write's row counts, from every statement's (the inserts' first, which nobody reads)."""
        answer, at = [], self.writes[0]
        for size in self.writes[1:]:
            answer.append(list(counts[at : at + size]))
            at += size
        return answer
