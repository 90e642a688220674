"""The Segment HTTP Tracking API on the wire: decode, authenticate and normalise requests.

Pure functions (no I/O, no database, no web framework) so the route stays thin and every rule is
testable. The rules follow Segment's http-api and common.md pages (guide A.1.1) and what the Python
clients really send (A.1.3): gzip bodies, the write key in Basic auth or in the body, ``null`` for
unset fields. A request is all-or-nothing: one bad event rejects the batch, with every problem listed.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from cxlens.core.instants import RANGE_REASON, in_range
from cxlens.customers.model import identity_problem
from cxlens.errors import InvalidInput, PayloadTooLarge

CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")

_CALL_TYPE_SET = frozenset(CALL_TYPES)
_GZIP_MAGIC = b"\x1f\x8b"
_ID_FIELDS = ("userId", "anonymousId", "previousId", "groupId")
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
_STRING_FIELDS = ("name", "category")
_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt")
_KINDS = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
}
# Ids a call type needs beyond "userId or anonymousId" (alias replaces that rule with its own).
_REQUIRED_IDS = {
    "alias": (("userId", "missing_user_id"), ("previousId", "missing_previous_id")),
    "group": (("groupId", "missing_group_id"),),
}
# The identity kind each id field is checked as (customers.model.identity_problem).
_ID_KINDS = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "previousId": "user_id",
    "groupId": "group_id",
}
_IDENTITY_TRAITS = ("email", "phone")
# Trait names that carry a date (Segment's reserved createdAt, and the common …At / …_at names).
_TIME_TRAIT_ENDINGS = ("At", "_at", "Date", "_date")
_MAX_EVENT_NAME = 255
_MAX_MESSAGE_ID = 100  # Segment: "unique messageId values with fewer than 100 characters"
_MAX_LISTED = 100  # problems listed in an error; invalid_count still counts them all


@dataclass(frozen=True)
class WireLimits:
    """Segment's published limits (http-api index.md, "Max request size")."""

    max_event_bytes: int = 32 * 1024  # one event, as compact JSON of the event as received
    max_batch_bytes: int = 500 * 1024  # one request body, after gunzip
    max_batch_events: int = 2500


@dataclass(frozen=True)
class _Run:
    """What every event of one request shares: the limits, the server clock and batch-level defaults."""

    limits: WireLimits
    received: datetime
    received_text: str
    new_message_id: Callable[[], str]
    context: dict[str, Any] = field(default_factory=dict)
    integrations: dict[str, Any] = field(default_factory=dict)
    sent_at: datetime | None = None


# --- body and key ----------------------------------------------------------------------------------


def decode_body(raw: bytes, *, content_encoding: str | None, limits: WireLimits) -> dict[str, Any]:
    """The JSON object of a request body, gunzipped when needed, never larger than the batch limit."""
    if len(raw) > limits.max_batch_bytes:
        raise _request_too_large(limits)
    encoding = (content_encoding or "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise InvalidInput(
            f"Content-Encoding {content_encoding!r} is not supported; send gzip or no encoding.",
            code="unsupported_encoding",
        )
    # Some clients gzip without saying so; the magic bytes cannot start a JSON text, so sniffing is safe.
    gzipped = encoding in ("gzip", "x-gzip") or raw[:2] == _GZIP_MAGIC
    data = _gunzip(raw, limits) if gzipped else raw
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            f"The request body is not valid UTF-8 JSON: {error}", code="invalid_json"
        ) from error
    if not isinstance(body, dict):
        raise InvalidInput(f"The request body must be a JSON object, got {_kind(body)}.", code="invalid_json")
    return body


def _gunzip(raw: bytes, limits: WireLimits) -> bytes:
    """Inflate gzip member by member, stopping one byte past the limit so a bomb never fully inflates."""
    limit = limits.max_batch_bytes
    out = bytearray()
    data = raw
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: expect the gzip header and trailer
        try:
            out += inflater.decompress(data, limit + 1 - len(out))  # budget >= 1: 0 would mean unlimited
        except zlib.error as error:
            raise InvalidInput(f"The request body is not valid gzip: {error}", code="invalid_gzip") from error
        if len(out) > limit:
            raise _request_too_large(limits)
        if not inflater.eof:
            raise InvalidInput("The request body is truncated gzip.", code="invalid_gzip")
        # Like the gzip module: further members may follow, and zero padding after the last is allowed.
        data = inflater.unused_data.lstrip(b"\x00")
    return bytes(out)


def _request_too_large(limits: WireLimits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {limits.max_batch_bytes} bytes; send smaller batches.",
        code="request_too_large",
        data={"max_batch_bytes": limits.max_batch_bytes},
    )


def write_key_from(*, authorization: str | None, x_write_key: str | None, body: dict[str, Any]) -> str | None:
    """Basic auth user name, else X-Write-Key, else body ``writeKey``; a Bearer token (OAuth) is ignored."""
    return _basic_user(authorization) or _clean(x_write_key) or _clean(body.get("writeKey"))


def _basic_user(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    token = token.strip()
    try:
        # Some clients drop the base64 padding; adding it back costs nothing.
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # "key:" is the documented form; a bare "key" works for backward compatibility. The password is ignored.
    return _clean(decoded.partition(":")[0])


def _clean(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


# --- timestamps ------------------------------------------------------------------------------------


def format_ts(dt: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and 'Z' (``2026-11-23T22:17:32.123Z``); naive means UTC."""
    utc = dt.replace(tzinfo=None) if dt.tzinfo is None else dt.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def parse_ts(value: Any) -> datetime | None:
    """An aware datetime from an ISO-8601 string (a naive one is UTC), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)  # 3.11 accepts 'Z' and most ISO-8601 forms
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# --- events ----------------------------------------------------------------------------------------


def normalize_events(
    body: dict[str, Any],
    *,
    call_type: str | None,
    received_at: datetime,
    limits: WireLimits,
    new_message_id: Callable[[], str],
) -> list[dict[str, Any]]:
    """The enriched events of one request, in order; raises one error listing every bad event."""
    received = received_at.replace(tzinfo=UTC) if received_at.tzinfo is None else received_at
    run = _Run(limits, received, format_ts(received), new_message_id)
    if call_type is None:
        items, run = _batch_items(body, run)
    elif call_type in _CALL_TYPE_SET:
        items = [body]
    else:
        raise InvalidInput(
            f"Unknown call type {call_type!r}; use one of {', '.join(CALL_TYPES)}.", code="unknown_type"
        )
    problems: list[dict[str, Any]] = []
    events = [_normalize_item(i, item, call_type, run, problems) for i, item in enumerate(items)]
    if problems:
        raise _invalid_events(problems, len(items), single=call_type is not None)
    return [event for event in events if event is not None]


def _batch_items(body: dict[str, Any], run: _Run) -> tuple[list[Any], _Run]:
    """The batch list and a run carrying the batch-level context, integrations and sentAt."""
    items = body.get("batch")
    if not isinstance(items, list):
        raise InvalidInput(f"'batch' must be a list of events, got {_kind(items)}.", code="invalid_batch")
    limit = run.limits.max_batch_events
    if len(items) > limit:
        raise PayloadTooLarge(
            f"The batch has {len(items)} events; at most {limit} are allowed per request.",
            code="too_many_events",
            data={"count": len(items), "max_batch_events": limit},
        )
    shared: dict[str, dict[str, Any]] = {}
    for name in ("context", "integrations"):
        value = body.get(name)
        if value is not None and not isinstance(value, dict):
            raise InvalidInput(f"Batch {name} must be an object, got {_kind(value)}.", code="invalid_batch")
        shared[name] = value or {}
    sent_at = parse_ts(body.get("sentAt"))
    if body.get("sentAt") is not None and sent_at is None:
        raise InvalidInput("Batch sentAt must be an ISO-8601 date-time.", code="invalid_batch")
    return items, replace(
        run, context=shared["context"], integrations=shared["integrations"], sent_at=sent_at
    )


def _normalize_item(
    index: int, item: Any, call_type: str | None, run: _Run, problems: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """One enriched event, or None after appending its problems (all of them, not just the first)."""
    if not isinstance(item, dict):
        problems.append(_problem(index, "invalid_event", f"the event must be an object, got {_kind(item)}"))
        return None
    size = len(orjson.dumps(item))  # the one serialisation per event
    if size > run.limits.max_event_bytes:
        # An oversized event is rejected whatever else is wrong with it; don't spend time looking.
        message = f"the event is {size} bytes, more than the {run.limits.max_event_bytes} allowed"
        problems.append(_problem(index, "event_too_large", message))
        return None
    kind = call_type or item.get("type")
    if not isinstance(kind, str) or kind not in _CALL_TYPE_SET:
        message = f"type must be one of {', '.join(CALL_TYPES)}, got {kind!r:.40}"
        problems.append(_problem(index, "unknown_type", message))
        return None
    errors: list[tuple[str, str]] = []
    ids = _ids(item, kind, errors)
    _check_shapes(item, kind, errors)
    _check_traits(item, errors)
    stamps = _timestamps(item, run, errors)
    if errors:
        problems.extend(_problem(index, code, message) for code, message in errors)
        return None
    return _enrich(item, kind, ids, stamps, run)


def _ids(item: dict[str, Any], kind: str, errors: list[tuple[str, str]]) -> dict[str, str | None]:
    """The id fields as strings; a wrong-typed one maps to None so it is not also reported missing."""
    ids: dict[str, str | None] = {}
    for name in _ID_FIELDS:
        value = item.get(name)
        if isinstance(value, str):
            if value:  # "" is as good as absent
                ids[name] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ids[name] = str(value)
        elif value is not None:
            errors.append(("wrong_type", f"{name} must be a string or a number, got {_kind(value)}"))
            ids[name] = None
    _check_id_values(ids, errors)
    if kind != "alias" and "userId" not in ids and "anonymousId" not in ids:
        errors.append(("missing_user_id", f"{kind} needs a userId or an anonymousId"))
    for name, code in _REQUIRED_IDS.get(kind, ()):
        if name not in ids:
            errors.append((code, f"{kind} needs a {name}"))
    return ids


def _check_id_values(ids: dict[str, str | None], errors: list[tuple[str, str]]) -> None:
    for name, value in ids.items():
        problem = value and identity_problem(_ID_KINDS[name], value)
        if problem:
            errors.append(("invalid_id", f"{name} {problem}"))


def _check_traits(item: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    """Traits that become identities (email, phone) or dates (createdAt and other ``…At`` names)
    are held to the same rules as those fields, here where the sender still hears about it."""
    for where, traits in (("traits", item.get("traits")), ("context.traits", _context_traits(item))):
        if not isinstance(traits, dict):
            continue
        for name, value in traits.items():
            problem = _trait_problem(name, value)
            if problem:
                errors.append(("invalid_trait", f"{where}.{name:.40} {problem}"))


def _context_traits(item: dict[str, Any]) -> Any:
    context = item.get("context")
    return context.get("traits") if isinstance(context, dict) else None


def _trait_problem(name: str, value: Any) -> str | None:
    if name in _IDENTITY_TRAITS:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # as good as absent, as the processor reads it
        if not isinstance(value, str):
            return f"must be a string, got {_kind(value)}"
        return identity_problem(name, value)
    if isinstance(value, str) and name.endswith(_TIME_TRAIT_ENDINGS):
        parsed = parse_ts(value)
        if parsed is not None and not in_range(parsed):
            return f"{value!r:.40} {RANGE_REASON}"
    return None


def _check_shapes(item: dict[str, Any], kind: str, errors: list[tuple[str, str]]) -> None:
    for name in _OBJECT_FIELDS:
        value = item.get(name)
        if value is not None and not isinstance(value, dict):
            errors.append(("wrong_type", f"{name} must be an object, got {_kind(value)}"))
    for name in _STRING_FIELDS:
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(("wrong_type", f"{name} must be a string, got {_kind(value)}"))
    message_id = item.get("messageId")
    if message_id is not None and not (
        isinstance(message_id, str) and 0 < len(message_id) <= _MAX_MESSAGE_ID
    ):
        errors.append(
            ("invalid_message_id", f"messageId must be a string of 1 to {_MAX_MESSAGE_ID} characters")
        )
    if kind == "track":
        _check_event_name(item.get("event"), errors)


def _check_event_name(name: Any, errors: list[tuple[str, str]]) -> None:
    if name is None or (isinstance(name, str) and not name.strip()):
        errors.append(("missing_event", "track needs an event name"))
    elif not isinstance(name, str):
        errors.append(("invalid_event_name", f"event must be a string, got {_kind(name)}"))
    elif len(name) > _MAX_EVENT_NAME:
        errors.append(("invalid_event_name", f"event must be at most {_MAX_EVENT_NAME} characters"))


def _timestamps(item: dict[str, Any], run: _Run, errors: list[tuple[str, str]]) -> dict[str, str]:
    """receivedAt, timestamp (clock-skew corrected, common.md "Timestamps"), originalTimestamp, sentAt."""
    times: dict[str, datetime] = {}
    for name in _TIME_FIELDS:
        value = item.get(name)
        parsed = parse_ts(value)
        if parsed is not None and in_range(parsed):
            times[name] = parsed
        elif parsed is not None:
            errors.append(("invalid_timestamp", f"{name} {value!r:.40} {RANGE_REASON}"))
        elif value is not None:
            errors.append(("invalid_timestamp", f"{name} must be an ISO-8601 date-time, got {value!r:.40}"))
    if errors:  # this event (or an earlier check of it) is already rejected: skip the arithmetic
        return {}
    original = times.get("originalTimestamp") or times.get("timestamp")
    sent = times.get("sentAt") or run.sent_at
    try:
        # The device clock may be wrong, but sent - original (time spent queued on it) is trustworthy.
        corrected = run.received - (sent - original) if original and sent else original or run.received
        if not in_range(corrected):  # a device clock far off can push the correction out of range
            raise OverflowError
        stamps = {"receivedAt": run.received_text, "timestamp": format_ts(corrected)}
        stamps.update({k: format_ts(v) for k, v in (("originalTimestamp", original), ("sentAt", sent)) if v})
    except OverflowError:
        errors.append(("invalid_timestamp", f"the event's corrected timestamp {RANGE_REASON}"))
        return {}
    return stamps


def _enrich(
    item: dict[str, Any], kind: str, ids: dict[str, str | None], stamps: dict[str, str], run: _Run
) -> dict[str, Any]:
    """A new dict: the event as received plus server fields; the write key is never kept."""
    event = {k: v for k, v in item.items() if k != "writeKey" and k not in _ID_FIELDS}
    event["type"] = kind
    event.update({k: v for k, v in ids.items() if v is not None})
    if item.get("messageId") is None:
        event["messageId"] = run.new_message_id()
    event.update(stamps)
    context = {**run.context, **(item.get("context") or {})}  # shallow merge: the event's keys win
    if context:
        event["context"] = context
    else:
        event.pop("context", None)
    if run.integrations:
        event["integrations"] = {**run.integrations, **(item.get("integrations") or {})}
    return event


def _invalid_events(
    problems: list[dict[str, Any]], total: int, *, single: bool
) -> InvalidInput | PayloadTooLarge:
    invalid = len({p["index"] for p in problems})
    first = problems[0]
    if single:
        message = f"The event is invalid: {first['message']}. Nothing was stored."
    else:
        verb = "is" if invalid == 1 else "are"
        message = (
            f"{invalid} of {total} events {verb} invalid; the first: event {first['index']}: "
            f"{first['message']}. Nothing was stored."
        )
    data = {"errors": problems[:_MAX_LISTED], "invalid_count": invalid}
    if all(p["code"] == "event_too_large" for p in problems):
        return PayloadTooLarge(message, code="event_too_large", data=data)
    return InvalidInput(message, code=first["code"] if len(problems) == 1 else "invalid_events", data=data)


def _problem(index: int, code: str, message: str) -> dict[str, Any]:
    return {"index": index, "code": code, "message": message}


def _kind(value: Any) -> str:
    """The JSON type of a value in words, for messages."""
    return _KINDS.get(type(value), "an object")
