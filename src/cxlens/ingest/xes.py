"""XES event logs of service desks (BPI Challenge 2013 incidents, Helpdesk) -> cases and case events.

Each trace is a case (``external_id`` = the trace's ``concept:name``); each event is a
``status_change`` whose value is the event's ``concept:name``, followed by
``/`` + ``lifecycle:transition`` when the transition is a sub status ("Accepted/In Progress") rather
than a standard XES life-cycle word such as "complete". A change of ``org:group`` between
consecutive events of a trace is also a ``handoff`` from the old group to the new one.

Who asked for help is not in these logs: every incident's requester is anonymous. Each case is
therefore its own customer, identified by ``external:<source>`` = the case id. The channel is
unknown too; BPIC 2013 incidents probably came in by phone, but the log does not say, so every
case gets channel ``other``.

A case is ``closed`` if its last event closes it, ``solved`` if its last event resolves it, else
``open`` (see ``_RESOLVING`` and ``_CLOSING``). BPIC 2013's "Completed/In Call" counts as
resolved: the service desk solved the incident during the call. A case that is worked on again
after being resolved counts one reopening. Priority is the latest ``impact`` (Low, Medium, High,
Major -> low, normal, high, urgent; the raw value stays in an extra ``impact`` column that the
pipeline keeps in the case properties), category the latest
``product``, team the latest ``org:group``. The assignee is the ``org:resource`` of the latest
event that does not close the case: in BPIC 2013 the closing event's resource is nearly always
"Siebel", the ticketing system itself, not the person who worked on the incident.

Events are ordered by time within a trace (file order breaks ties). Timestamps keep their
instant and come out in UTC; one without an offset is read as UTC, one that cannot be parsed is
null (the pipeline rejects such events).
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cxlens.cases.model import RESOLVED_STATUSES
from cxlens.errors import ImportFailed

_KEYS = (
    "concept:name",
    "lifecycle:transition",
    "org:resource",
    "org:group",
    "time:timestamp",
    "impact",
    "product",
)
# Standard XES life-cycle transitions say where an activity is, not which status a case is in.
_LIFECYCLE_WORDS = (
    "schedule",
    "assign",
    "reassign",
    "start",
    "suspend",
    "resume",
    "complete",
    "autoskip",
    "manualskip",
    "withdraw",
    "ate_abort",
    "pi_abort",
    "unknown",
)
# Compared in lower case with the status value.
_RESOLVING = ("completed/resolved", "completed/in call", "resolve ticket", "resolved")
_CLOSING = ("completed/closed", "completed/cancelled", "closed")
_PRIORITY = {"low": "low", "medium": "normal", "high": "high", "major": "urgent"}
_TIMESTAMP = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$"
_UTC = pa.timestamp("us", tz="UTC")


def read_xes(path: Path, *, source: str | None = None) -> dict[str, pa.Table]:
    """Read an ``.xes`` or ``.xes.gz`` log; ``source`` defaults to a name derived from the file."""
    source = source or default_source(path)
    events = _derive(_decode(path))
    return {"cases": _cases(events, source), "case_events": _case_events(events, source)}


def default_source(path: Path) -> str:
    """``bpi_challenge_2013_incidents.xes.gz`` -> ``bpic2013_incidents``; ``Helpdesk.xes`` -> ``helpdesk``."""
    stem = re.sub(r"(\.xes)?(\.gz)?$", "", path.name.lower())
    stem = re.sub(r"[^a-z0-9]+", "_", stem).strip("_")
    return stem.replace("bpi_challenge_", "bpic") or "xes"


def _open(path: Path) -> gzip.GzipFile | BufferedReader:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def _decode(path: Path) -> pa.Table:
    """The one row-by-row step: XML has no columnar reader, so the elements are streamed
    (iterparse, dropping each finished trace) into column lists; everything after is Arrow."""
    log = _Columns()
    root: ET.Element | None = None
    try:
        with _open(path) as stream:
            for action, element in ET.iterparse(stream, events=("start", "end")):
                root = element if root is None else root
                tag = element.tag.rpartition("}")[2]
                if action == "end" and tag == "event":
                    log.add_event(element)
                    element.clear()
                elif action == "end" and tag == "trace":
                    log.end_trace(element)
                    root.clear()  # memory stays flat however long the log is
    except ET.ParseError as error:
        raise ImportFailed(f"{path.name} is not valid XES: {error}") from error
    except OSError as error:
        raise ImportFailed(f"Cannot read {path.name}: {error}") from error
    return log.to_table()


@dataclass
class _Columns:
    """Event attributes collected column by column while the XML streams past."""

    values: dict[str, list[str | None]] = field(default_factory=lambda: {key: [] for key in _KEYS})
    trace: list[int] = field(default_factory=list)
    position: list[int] = field(default_factory=list)
    trace_names: list[str | None] = field(default_factory=list)
    in_trace: int = 0

    def add_event(self, element: ET.Element) -> None:
        attributes = {child.get("key"): child.get("value") for child in element}
        for key in _KEYS:
            self.values[key].append(attributes.get(key))
        self.trace.append(len(self.trace_names))
        self.position.append(self.in_trace)
        self.in_trace += 1

    def end_trace(self, element: ET.Element) -> None:
        # Events are cleared by now, so only the trace's own attributes carry a key.
        name = next((child.get("value") for child in element if child.get("key") == "concept:name"), None)
        self.trace_names.append(name)
        self.in_trace = 0

    def to_table(self) -> pa.Table:
        trace = pa.array(self.trace, pa.int64())
        table = pa.table({"trace": trace, "position": pa.array(self.position, pa.int64())})
        table = table.append_column("case", pc.take(pa.array(self.trace_names, pa.string()), trace))
        for key in _KEYS:
            table = table.append_column(key, pa.array(self.values[key], pa.string()))
        return table


def _timestamps(text: pa.ChunkedArray) -> pa.ChunkedArray:
    text = pc.if_else(pc.match_substring_regex(text, _TIMESTAMP), text, None)
    text = pc.replace_substring_regex(text, r"(\.\d{6})\d+", r"\1")  # Arrow parses up to microseconds
    offset = pc.match_substring_regex(text, r"(Z|[+-]\d\d:\d\d)$")
    text = pc.if_else(offset, text, pc.binary_join_element_wise(text, "Z", ""))
    return pc.cast(text, _UTC)


def _status(name: pa.ChunkedArray, lifecycle: pa.ChunkedArray) -> pa.ChunkedArray:
    plain = pc.or_(pc.is_null(lifecycle), pc.is_in(pc.utf8_lower(lifecycle), pa.array(_LIFECYCLE_WORDS)))
    return pc.if_else(plain, name, pc.binary_join_element_wise(name, lifecycle, "/"))


def _previous(column: pa.ChunkedArray) -> pa.Array:
    """The value of the row before (null for the first row)."""
    flat = column.combine_chunks()
    return pa.concat_arrays([pa.nulls(1, flat.type), flat.slice(0, max(len(flat) - 1, 0))])


def _derive(raw: pa.Table) -> pa.Table:
    """Per-event columns the cases and case events are built from, in case order."""
    events = raw.append_column("occurred_at", _timestamps(raw["time:timestamp"]))
    events = events.sort_by([("trace", "ascending"), ("occurred_at", "ascending"), ("position", "ascending")])
    status = _status(events["concept:name"], events["lifecycle:transition"])
    lowered = pc.utf8_lower(status)
    same_case = pc.fill_null(pc.equal(events["trace"], _previous(events["trace"])), False)
    previous_status = pc.if_else(same_case, _previous(status), None)
    previous_group = pc.if_else(same_case, _previous(events["org:group"]), None)
    resolving = pc.is_in(lowered, pa.array(_RESOLVING))
    closing = pc.is_in(lowered, pa.array(_CLOSING))
    was_resolved = pc.fill_null(pc.is_in(pc.utf8_lower(previous_status), pa.array(_RESOLVING)), False)
    derived = {
        "status": status,
        "previous_status": previous_status,
        "previous_group": previous_group,
        "resolving": resolving,
        "closing": closing,
        "reopens": pc.and_(was_resolved, pc.invert(pc.or_(resolving, closing))),
    }
    for name, column in derived.items():
        events = events.append_column(name, column)
    return events


def _case_status(last_status: pa.ChunkedArray) -> pa.ChunkedArray:
    lowered = pc.utf8_lower(last_status)
    solved = pc.if_else(pc.is_in(lowered, pa.array(_RESOLVING)), "solved", "open")
    return pc.if_else(pc.is_in(lowered, pa.array(_CLOSING)), "closed", solved)


def _priority(impact: pa.ChunkedArray) -> pa.ChunkedArray:
    # Other words (such as the XES placeholder "UNKNOWN") give no priority; the case keeps the raw
    # value in its ``impact`` column, which the pipeline stores in the case properties.
    index = pc.index_in(pc.utf8_lower(impact), pa.array(list(_PRIORITY)))
    return pc.take(pa.array(list(_PRIORITY.values())), index)


def _case_rollup(events: pa.Table) -> pa.Table:
    work = events.select(
        ["trace", "case", "occurred_at", "status", "org:group", "org:resource", "impact", "product"]
    )
    work = work.append_column("solved_at", pc.if_else(events["resolving"], events["occurred_at"], None))
    work = work.append_column("closed_at", pc.if_else(events["closing"], events["occurred_at"], None))
    work = work.append_column("reopens", pc.cast(events["reopens"], pa.int64()))
    work = work.append_column("worker", pc.if_else(events["closing"], None, events["org:resource"]))
    # Ordered aggregation ("first"/"last") needs a single thread; events are already in case order.
    return work.group_by("trace", use_threads=False).aggregate(
        [
            ("case", "first"),
            ("occurred_at", "min"),
            ("status", "last"),
            ("org:group", "last"),
            ("org:resource", "last"),
            ("impact", "last"),
            ("product", "last"),
            ("solved_at", "min"),
            ("closed_at", "max"),
            ("reopens", "sum"),
            ("worker", "last"),
        ]
    )


def _cases(events: pa.Table, source: str) -> pa.Table:
    rollup = _case_rollup(events)
    status = _case_status(rollup["status_last"])
    finished = pc.is_in(status, pa.array(RESOLVED_STATUSES))
    size = rollup.num_rows
    return pa.table(
        {
            f"external:{source}": rollup["case_first"],
            "external_id": rollup["case_first"],
            "channel": pa.repeat("other", size),
            "status": status,
            "priority": _priority(rollup["impact_last"]),
            "team": rollup["org:group_last"],
            "assignee": pc.coalesce(rollup["worker_last"], rollup["org:resource_last"]),
            "category": rollup["product_last"],
            "created_at": rollup["occurred_at_min"],
            "solved_at": pc.if_else(finished, rollup["solved_at_min"], None),
            "closed_at": pc.if_else(pc.equal(status, "closed"), rollup["closed_at_max"], None),
            "reopen_count": rollup["reopens_sum"],
            "source": pa.repeat(source, size),
            "impact": rollup["impact_last"],
        }
    )


def _case_events(events: pa.Table, source: str) -> pa.Table:
    key = pc.binary_join_element_wise(events["case"], pc.cast(events["position"], pa.string()), ":")
    changes = _event_rows(
        events,
        kind="status_change",
        from_value=events["previous_status"],
        to_value=events["status"],
        key=key,
        source=source,
    )
    moved = pc.fill_null(pc.not_equal(events["org:group"], events["previous_group"]), False)
    handed = events.filter(moved)
    handoffs = _event_rows(
        handed,
        kind="handoff",
        from_value=handed["previous_group"],
        to_value=handed["org:group"],
        key=pc.filter(key, moved),
        source=source,
    )
    both = pa.concat_tables([changes, handoffs])
    # A handoff sorts right after the status change of the same event.
    both = both.sort_by(
        [
            ("trace", "ascending"),
            ("occurred_at", "ascending"),
            ("position", "ascending"),
            ("kind", "descending"),
        ]
    )
    return both.drop_columns(["trace", "position"])


def _event_rows(
    events: pa.Table,
    *,
    kind: str,
    from_value: pa.ChunkedArray,
    to_value: pa.ChunkedArray,
    key: pa.ChunkedArray,
    source: str,
) -> pa.Table:
    size = events.num_rows
    suffix = "" if kind == "status_change" else f":{kind}"
    return pa.table(
        {
            "trace": events["trace"],
            "position": events["position"],
            "case_external_id": events["case"],
            "occurred_at": events["occurred_at"],
            "kind": pa.repeat(kind, size),
            "author": events["org:resource"],
            "from_value": from_value,
            "to_value": to_value,
            "source": pa.repeat(source, size),
            "idempotency_key": pc.binary_join_element_wise(key, suffix, ""),
        }
    )
