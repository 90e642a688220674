"""Survey answers for the web app: filtered lists, newest first and keyset-paged; the live feed of
the latest answers; answers per survey. One set-based query each, joined to the customer who gave
the answer (the canonical profile, so a merged customer shows under the id that survives).
A response belongs to the survey its ``survey`` names; imported responses may name a survey with
no definition here, which the survey list shows as imported (``survey_counts``).

Filters come from a page's query string (``parse_filter``), so a filtered view is a link.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cxlens.core.instants import in_range
from cxlens.core.paging import Page
from cxlens.customers.queries import decode_cursor, encode_cursor
from cxlens.errors import InvalidInput
from cxlens.ingest.base import CHANNELS, METRICS
from cxlens.storage.store import Session

# NPS segments by score (0–10): the usual cut-offs, the same as the metric's (docs/metrics.md).
SEGMENTS = {
    "detractor": "r.score <= 6",
    "passive": "r.score >= 7 AND r.score <= 8",
    "promoter": "r.score >= 9",
}
FILTER_KEYS = ("metric", "channel", "touchpoint", "score_min", "score_max", "segment", "since", "until", "q")
MAX_PAGE = 500
MAX_EXPORT = 100_000  # rows in one CSV download: beyond that, the CLI or the API is the tool

_SELECT = """
SELECT 'rsp_' || r.response_key AS response_id, r.response_key, r.answered_at, r.survey, r.metric, r.score,
       r.scale_min, r.scale_max, r.comment, r.channel, r.touchpoint, c.customer_id, c.name AS customer_name,
       CASE WHEN r.metric = 'nps' THEN
            CASE WHEN r.score >= 9 THEN 'promoter' WHEN r.score >= 7 THEN 'passive' ELSE 'detractor' END
       END AS segment
FROM responses r
JOIN customers p ON p.customer_key = r.customer_key
JOIN customers c ON c.customer_key = p.canonical_key
"""
_NEWEST_FIRST = "ORDER BY r.answered_at DESC, r.response_key DESC"


@dataclass(frozen=True)
class ResponseFilter:
    """Which answers to show; None means "any". ``until`` is exclusive; ``text`` is searched in
    the comment, case-insensitively."""

    survey: str | None = None
    metric: str | None = None
    channel: str | None = None
    touchpoint: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    segment: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def parse_filter(params: Mapping[str, str], *, survey: str | None = None) -> ResponseFilter:
    """A filter from query-string values (empty means not set); every bad value is reported at once."""
    values = {key: (params.get(key) or "").strip() for key in FILTER_KEYS}
    problems: list[dict[str, str]] = []

    def check(key: str, ok: bool, message: str) -> None:
        if values[key] and not ok:
            problems.append({"field": key, "message": message})

    check("metric", values["metric"] in METRICS, f"Choose a metric: {', '.join(METRICS)}.")
    check("channel", values["channel"] in CHANNELS, f"Choose a channel: {', '.join(CHANNELS)}.")
    check("segment", values["segment"] in SEGMENTS, f"Choose a segment: {', '.join(SEGMENTS)}.")
    scores = {key: _number(values[key]) for key in ("score_min", "score_max")}
    for key, score in scores.items():
        check(key, score is not None, "Give the score as a number, such as 7.")
    moments = {"since": _moment(values["since"]), "until": _moment(values["until"], end_of_day=True)}
    for key, moment in moments.items():
        check(
            key,
            moment is not None,
            "Give a date from 1900 to 2199 such as 2024-05-31 (or a time such as 2024-05-31T12:00Z).",
        )
    check("q", len(values["q"]) <= 200, "Search for at most 200 characters.")
    if problems:
        first = problems[0]
        raise InvalidInput(f"{first['field']}: {first['message']}", data={"problems": problems})
    return ResponseFilter(
        survey=survey,
        metric=values["metric"] or None,
        channel=values["channel"] or None,
        touchpoint=values["touchpoint"] or None,
        score_min=scores["score_min"],
        score_max=scores["score_max"],
        segment=values["segment"] or None,
        since=moments["since"],
        until=moments["until"],
        text=values["q"] or None,
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _moment(text: str, *, end_of_day: bool = False) -> datetime | None:
    """A date (its start; with ``end_of_day`` the next day's start) or an ISO time, in UTC."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):  # 9999-12-31 has no next day
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    # reported like a malformed date: no stored response can lie outside the range (core/instants)
    return moment if in_range(moment) else None


def _where(f: ResponseFilter) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    equal = {"r.survey": f.survey, "r.metric": f.metric, "r.channel": f.channel, "r.touchpoint": f.touchpoint}
    for column, value in equal.items():
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    compared: list[tuple[str, float | datetime | None]] = [
        ("r.score >= ?", f.score_min),
        ("r.score <= ?", f.score_max),
    ]
    compared += [("r.answered_at >= ?", f.since), ("r.answered_at < ?", f.until)]
    for condition, bound in compared:
        if bound is not None:
            conditions.append(condition)
            params.append(bound)
    if f.segment is not None:  # segments are NPS's: the metric is implied
        conditions.append(f"r.metric = 'nps' AND {SEGMENTS[f.segment]}")
    if f.text:
        conditions.append("strpos(lower(r.comment), lower(?)) > 0")
        params.append(f.text)
    return conditions, params


def list_responses(
    s: Session, f: ResponseFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[dict[str, Any]]:
    """One page of the answers ``f`` selects, newest first; ``cursor`` is the previous page's
    ``next_cursor``."""
    conditions, params = _where(f)
    if cursor:
        at, key = decode_cursor(cursor)
        if not key.isdigit():
            raise InvalidInput("The paging cursor is not valid; start again from the first page.")
        conditions.append("(r.answered_at < ? OR (r.answered_at = ? AND r.response_key < ?))")
        params += [at, at, int(key)]
    limit = max(1, min(limit, MAX_PAGE))
    rows = _fetch(s, conditions, params, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = encode_cursor(last["answered_at"], str(last["response_key"])) if more and last else None
    return Page(items=rows, next_cursor=next_cursor)


def export_responses(s: Session, f: ResponseFilter, *, limit: int = MAX_EXPORT) -> list[dict[str, Any]]:
    """Every answer ``f`` selects (up to ``limit``), newest first: the CSV download."""
    conditions, params = _where(f)
    return _fetch(s, conditions, params, max(1, min(limit, MAX_EXPORT)))


def latest_responses(s: Session, after_key: int | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The newest answers of every survey (the live feed); with ``after_key``, only those recorded
    after that response (its ``response_key``), so a poller can ask for what is new."""
    conditions, params = ([], []) if after_key is None else (["r.response_key > ?"], [after_key])
    return _fetch(s, conditions, params, max(1, min(limit, MAX_PAGE)))


def _fetch(s: Session, conditions: list[str], params: list[Any], limit: int) -> list[dict[str, Any]]:
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return s.fetch_all(f"{_SELECT} {where} {_NEWEST_FIRST} LIMIT ?", [*params, limit])


def survey_counts(s: Session) -> list[dict[str, Any]]:
    """Every survey with its number of responses, the time of the last one, and its emailed
    invitations sent and answered (the ``response_rate`` metric's components), by name.

    A response belongs to the survey its ``survey`` names. Imported responses may name a survey this
    workspace has no definition of: each such name is listed too (``imported``, its metric the most
    common one of its responses), so no response is left out of the list."""
    return s.fetch_all(
        "WITH n AS (SELECT survey, count(*) AS responses, max(answered_at) AS last_response_at, "
        "mode(metric) AS metric FROM responses WHERE survey IS NOT NULL GROUP BY survey), "
        "i AS (SELECT x.survey_key, count(*) AS sent, count(l.answered_at) AS answered "
        "FROM survey_invitations x LEFT JOIN survey_links l USING (link_key) WHERE x.status = 'sent' "
        "GROUP BY x.survey_key) "
        "SELECT v.survey_id, coalesce(v.name, n.survey) AS name, v.title, coalesce(v.metric, n.metric) AS metric, "
        "v.created_at, v.updated_at, v.archived_at, v.survey_key IS NULL AS imported, "
        "coalesce(n.responses, 0) AS responses, n.last_response_at, "
        "coalesce(i.sent, 0) AS invitations_sent, coalesce(i.answered, 0) AS invitations_answered "
        "FROM surveys v FULL JOIN n ON n.survey = v.name LEFT JOIN i ON i.survey_key = v.survey_key "
        "ORDER BY name"
    )
