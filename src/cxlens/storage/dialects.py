"""Every SQL difference between engines, in one place.

The slices write portable SQL and ask the dialect for the few expressions that differ
(JSON access, regular expressions, hashing, time zones). ``DuckDBDialect`` is the embedded default;
a ``PostgresDialect`` implements the same methods.
"""

from __future__ import annotations

from typing import Protocol


class Dialect(Protocol):
    name: str

    def regexp_matches(self, expr: str, pattern: str) -> str: ...

    def md5(self, expr: str) -> str: ...

    def random_hex(self, length: int) -> str: ...

    def try_cast(self, expr: str, sql_type: str) -> str: ...

    def at_time_zone(self, naive_expr: str, tz_literal: str) -> str:
        """Interpret a naive timestamp as wall-clock time in ``tz`` and return it as TIMESTAMPTZ."""
        ...

    def json_object_from(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object built from (key literal, value expression) pairs."""
        ...

    def hash64(self, expr: str) -> str:
        """A 64-bit unsigned hash of a text expression that never changes between engine versions
        (stored hashes must keep matching after an upgrade)."""
        ...


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckDBDialect:
    name = "duckdb"

    def regexp_matches(self, expr: str, pattern: str) -> str:
        return f"regexp_matches({expr}, {quote_literal(pattern)})"

    def md5(self, expr: str) -> str:
        return f"md5({expr})"

    def random_hex(self, length: int) -> str:
        return f"substr(replace(CAST(uuid() AS VARCHAR), '-', ''), 1, {length})"

    def try_cast(self, expr: str, sql_type: str) -> str:
        return f"TRY_CAST({expr} AS {sql_type})"

    def at_time_zone(self, naive_expr: str, tz_literal: str) -> str:
        return f"timezone({tz_literal}, {naive_expr})"

    def json_object_from(self, pairs: list[tuple[str, str]]) -> str:
        if not pairs:
            return "NULL"
        args = ", ".join(f"{quote_literal(k)}, {v}" for k, v in pairs)
        return f"CAST(json_object({args}) AS JSON)"

    def hash64(self, expr: str) -> str:
        return f"md5_number_lower({expr})"
