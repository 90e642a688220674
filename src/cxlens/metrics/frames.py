"""The rows each metric reads, as portable SQL over the workspace (customer attributes joined
through the canonical profile, so merged customers count once under their current segment).

Each source is a catalogue of columns, each with the joins it needs; a query's frame selects only
the columns it reads, so NPS by channel never joins customers and TTR by team never computes
business-hours clocks or the repeat-contact window (docs/benchmarks.md: the full cases projection
cost 1.3 s of a 1.8 s pass over two million cases).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import narwhals as nw
import pyarrow as pa

from cxlens.cases.model import resolved_sql
from cxlens.errors import InvalidInput
from cxlens.metrics.schedule import Schedule, business_hours_sql
from cxlens.metrics.spec import FIRST_YEAR, LAST_YEAR, MetricsSettings
from cxlens.storage.store import Session

DEFAULT_SCHEDULE = MetricsSettings().schedule

_CASE_MESSAGES = (
    "SELECT case_key, count(*) FILTER (WHERE kind = 'message' AND direction = 'in') AS customer_messages, "
    "count(*) FILTER (WHERE kind = 'handoff') AS handoffs FROM case_events GROUP BY case_key"
)
# The canonical profile of the row's customer (``p`` the recorded one, ``c`` the one it merged into).
_CANONICAL = "JOIN customers p ON p.customer_key = {row}.customer_key JOIN customers c ON c.customer_key = p.canonical_key"


# The journey stage a customer was in at a moment: the stage of their latest staged interaction at
# or before it (ASOF join on the canonical profile, so merged profiles share one journey).
_JOURNEY = (
    "ASOF LEFT JOIN (SELECT jp.canonical_key AS journey_key, i.occurred_at AS journey_at, i.stage AS journey_stage "
    "FROM interactions i JOIN customers jp ON jp.customer_key = i.customer_key WHERE i.stage IS NOT NULL) j "
    "ON j.journey_key = c.customer_key AND j.journey_at <= {moment}"
)
ATTRIBUTE_PREFIX = "customer:"
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def attribute_name_ok(key: str) -> bool:
    return _ATTRIBUTE_NAME.fullmatch(key) is not None


def attribute_key(dimension: str) -> str | None:
    """The customer-attribute key a ``customer:<key>`` dimension names (None for other names);
    a malformed key raises InvalidInput, since the key is spliced into SQL."""
    if not dimension.startswith(ATTRIBUTE_PREFIX):
        return None
    key = dimension.removeprefix(ATTRIBUTE_PREFIX)
    if not attribute_name_ok(key):
        raise InvalidInput(
            f"{dimension!r} is not a customer attribute: after 'customer:' use a letter, then letters, "
            "digits or underscores (at most 64)."
        )
    return key


# Microseconds since the epoch of the first and the last instant a metric reads (spec.FIRST_YEAR ..
# LAST_YEAR): a stored time outside them (a tracking call's "0001-01-01T00:00:00+14:00", written
# before entry checks existed) is read as missing rather than breaking every answer that meets it.
_PLAUSIBLE_US = tuple(
    int((datetime(year, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000
    for year in (FIRST_YEAR, LAST_YEAR)
)


def _plausible_us(ts: str) -> str:
    low, high = _PLAUSIBLE_US
    return f"CASE WHEN epoch_us({ts}) >= {low} AND epoch_us({ts}) < {high} THEN epoch_us({ts}) END"


def _utc(*ts: str) -> str:
    """A TIMESTAMPTZ as a plain UTC timestamp: truncating it to a day, week or month then needs no
    time-zone library (the ICU path cost 400 of 630 ms for NPS by month over 8.8M answers). With
    several, the first plausible one; an implausible time is NULL."""
    return f"make_timestamp(coalesce({', '.join(_plausible_us(t) for t in ts)}))"


def _plausible(ts: str) -> str:
    """A source's own time is within the years metrics read (rows outside are not read)."""
    return f"{_plausible_us(ts)} IS NOT NULL"


def _hours(end: str) -> str:
    """Calendar hours from the case's creation to ``end``; NULL when missing or before creation.
    Microsecond arithmetic: ``extract(epoch FROM interval)`` costs 15× more over two million cases."""
    micros = f"epoch_us({end}) - epoch_us(k.created_at)"
    return f"CASE WHEN {micros} >= 0 THEN ({micros}) / 3600000000.0 END"


@dataclass(frozen=True)
class Column:
    sql: str
    joins: tuple[str, ...] = ()
    business_until: str = ""  # set: business hours from the case's creation to this, on the schedule


@dataclass(frozen=True)
class Source:
    table: str  # "FROM … alias [WHERE …]" without joins
    joins: dict[str, str]
    columns: dict[str, Column]
    where: str = ""


def _col(sql: str, *joins: str) -> Column:
    return Column(sql, joins)


SOURCES: dict[str, Source] = {
    "customers": Source(
        "FROM customers c",
        {},
        {
            "segment": _col("c.segment"),
            "started_at": _col(_utc("c.signed_up_at", "c.first_seen_at", "c.created_at")),
            "churned_at": _col(_utc("c.churned_at")),
        },
        where="c.customer_key = c.canonical_key",
    ),
    "responses": Source(
        "FROM responses r",
        {"customer": _CANONICAL.format(row="r"), "journey": _JOURNEY.format(moment="r.answered_at")},
        {
            **{
                name: _col(f"r.{name}")
                for name in ("metric", "score", "channel", "touchpoint", "survey", "source")
            },
            "answered_at": _col(_utc("r.answered_at")),
            "segment": _col("c.segment", "customer"),
            "stage": _col("j.journey_stage", "customer", "journey"),
        },
        where=_plausible("r.answered_at"),
    ),
    # Survey invitations that went out (scheduled, failed and held-back ones never reached anyone),
    # with whether their personal link was answered (completed: a partial save leaves answered_at NULL).
    "invitations": Source(
        "FROM survey_invitations v",
        {
            "link": "LEFT JOIN survey_links l ON l.link_key = v.link_key",
            "survey": "LEFT JOIN surveys s ON s.survey_key = v.survey_key",
            "trigger": "LEFT JOIN survey_triggers t ON t.trigger_key = v.trigger_key",
            "customer": _CANONICAL.format(row="v"),
            "journey": _JOURNEY.format(moment="v.sent_at"),
        },
        {
            "sent_at": _col(_utc("v.sent_at")),
            "answered": _col("l.answered_at IS NOT NULL", "link"),
            "channel": _col("v.channel"),
            "touchpoint": _col("v.touchpoint"),
            "survey": _col("s.name", "survey"),
            "trigger": _col("CASE WHEN v.trigger_key IS NULL THEN 'manual' ELSE t.name END", "trigger"),
            "segment": _col("c.segment", "customer"),
            "stage": _col("j.journey_stage", "customer", "journey"),
        },
        where=f"v.status = 'sent' AND {_plausible('v.sent_at')}",
    ),
    "cases": Source(
        "FROM cases k",
        {
            "messages": f"LEFT JOIN ({_CASE_MESSAGES}) m ON m.case_key = k.case_key",
            "customer": _CANONICAL.format(row="k"),
            "journey": _JOURNEY.format(moment="k.created_at"),
        },
        {
            **{
                name: _col(f"k.{name}")
                for name in ("channel", "team", "assignee", "category", "priority", "status", "source")
            },
            "created_at": _col(_utc("k.created_at")),
            "resolved": _col(resolved_sql("k")),
            "reopened": _col("k.reopen_count > 0"),
            "customer_messages": _col("coalesce(m.customer_messages, 0)", "messages"),
            "handoffs": _col("coalesce(m.handoffs, 0)", "messages"),
            "segment": _col("c.segment", "customer"),
            "stage": _col("j.journey_stage", "customer", "journey"),
            "frt_hours": _col(_hours("k.first_response_at")),
            "ttr_hours": _col(_hours("coalesce(k.solved_at, k.closed_at)")),
            "frt_business_hours": Column("", business_until="k.first_response_at"),
            "ttr_business_hours": Column("", business_until="coalesce(k.solved_at, k.closed_at)"),
            # Days from this case's resolution to the same customer's next case (repeat contact).
            "days_to_next_case": _col(
                "(epoch_us(lead(k.created_at) OVER (PARTITION BY c.customer_key ORDER BY k.created_at, "
                "k.case_key)) - epoch_us(coalesce(k.solved_at, k.closed_at))) / 86400000000.0",
                "customer",
            ),
        },
        where=_plausible("k.created_at"),
    ),
}


def source_columns(source: str) -> tuple[str, ...]:
    return tuple(SOURCES[source].columns)


def _column(source: str, name: str) -> Column:
    """A catalogued column, or a customer attribute read from the canonical profile's JSON."""
    spec = SOURCES[source]
    if name in spec.columns:
        return spec.columns[name]
    key = attribute_key(name)
    if key is None:
        raise KeyError(f"{source} has no column {name}")
    joins = () if source == "customers" else ("customer",)
    return Column(f"json_extract_string(c.attributes, '$.{key}')", joins)


def _expression(column: Column, schedule: Schedule) -> str:
    if column.business_until:
        return business_hours_sql(schedule, "k.created_at", column.business_until)
    return column.sql


def frame_sql(
    source: str, columns: Iterable[str] | None = None, schedule: Schedule = DEFAULT_SCHEDULE
) -> str:
    """The base rows of ``source`` with ``columns`` (all when None), joining only what they need;
    business hours are measured on ``schedule``."""
    spec = SOURCES[source]
    wanted = list(dict.fromkeys(spec.columns if columns is None else columns))
    if not wanted:  # a count of rows reads no column; the frame still needs one
        wanted = [next(iter(spec.columns))]
    chosen = {name: _column(source, name) for name in wanted}
    needed = {join for column in chosen.values() for join in column.joins}
    select = ", ".join(f'{_expression(column, schedule)} AS "{name}"' for name, column in chosen.items())
    joins = " ".join(sql for name, sql in spec.joins.items() if name in needed)
    where = f" WHERE {spec.where}" if spec.where else ""
    return f"SELECT {select} {spec.table} {joins}{where}"


def base_frame(
    s: Session, source: str, schedule: Schedule = DEFAULT_SCHEDULE, columns: Iterable[str] | None = None
) -> nw.LazyFrame[Any]:
    return s.lazy(frame_sql(source, columns, schedule))


def collect_rows(frame: nw.LazyFrame[Any]) -> list[dict[str, Any]]:
    """A (small, aggregated) lazy frame's rows as dicts."""
    table: pa.Table = frame.collect(backend="pyarrow").to_native()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
