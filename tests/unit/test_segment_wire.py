"""The Segment wire format: body decoding, write keys, event validation and enrichment."""

from __future__ import annotations

import base64
import copy
import gzip
import itertools
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from cxlens.errors import CxLensError, InvalidInput, PayloadTooLarge
from cxlens.ingest.segment_wire import (
    CALL_TYPES,
    WireLimits,
    decode_body,
    format_ts,
    normalize_events,
    parse_ts,
    write_key_from,
)

LIMITS = WireLimits()
RECEIVED = datetime(2026, 11, 23, 12, 0, 10, 123456, tzinfo=UTC)


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"srv-{next(counter)}"


def normalize(body: dict[str, Any], call_type: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    options: dict[str, Any] = {"received_at": RECEIVED, "limits": LIMITS, "new_message_id": ids()}
    options.update(kwargs)
    return normalize_events(body, call_type=call_type, **options)


def rejected(body: dict[str, Any], call_type: str | None = None, **kwargs: Any) -> CxLensError:
    with pytest.raises(CxLensError) as caught:
        normalize(body, call_type, **kwargs)
    return caught.value


def track(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "event": "Order Completed", "userId": "u1", **fields}


def codes(error: CxLensError) -> list[tuple[int, str]]:
    return [(p["index"], p["code"]) for p in error.data["errors"]]


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


# --- decode_body -----------------------------------------------------------------------------------


def test_plain_json_body_is_decoded() -> None:
    assert decode_body(b'{"batch": []}', content_encoding=None, limits=LIMITS) == {"batch": []}
    assert decode_body(b'{"a": 1}', content_encoding="identity", limits=LIMITS) == {"a": 1}


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", " Gzip ", "x-gzip", None])
def test_gzip_body_is_inflated_with_or_without_the_header(encoding: str | None) -> None:
    raw = gzip.compress(b'{"writeKey": "k", "batch": [{"type": "track"}]}')
    body = decode_body(raw, content_encoding=encoding, limits=LIMITS)
    assert body == {"writeKey": "k", "batch": [{"type": "track"}]}


def test_multi_member_gzip_with_zero_padding_is_read_whole() -> None:
    raw = gzip.compress(b'{"a": ') + gzip.compress(b"[1, 2]}") + b"\x00\x00"
    assert decode_body(raw, content_encoding="gzip", limits=LIMITS) == {"a": [1, 2]}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"not": "gzip"}',  # header says gzip, body is plain
        b"\x1f\x8bgarbage-after-the-magic",
        gzip.compress(b'{"a": 1}')[:-6],  # truncated: trailer missing
        gzip.compress(b'{"a": 1}') + b"trailing garbage",
    ],
)
def test_corrupt_gzip_is_invalid_gzip(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(raw, content_encoding="gzip", limits=LIMITS)
    assert caught.value.code == "invalid_gzip"
    assert caught.value.http_status == 400


def test_unsupported_encoding_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(b"{}", content_encoding="br", limits=LIMITS)
    assert caught.value.code == "unsupported_encoding"


def test_raw_body_over_the_limit_is_request_too_large() -> None:
    raw = orjson.dumps({"batch": ["x" * 600]})
    with pytest.raises(PayloadTooLarge) as caught:
        decode_body(raw, content_encoding=None, limits=WireLimits(max_batch_bytes=500))
    assert (caught.value.code, caught.value.http_status) == ("request_too_large", 413)


def test_body_exactly_at_the_limit_is_accepted() -> None:
    raw = orjson.dumps({"pad": "x" * 100})
    body = decode_body(
        gzip.compress(raw), content_encoding="gzip", limits=WireLimits(max_batch_bytes=len(raw))
    )
    assert body == {"pad": "x" * 100}


def gzip_bomb(inflated_bytes: int) -> bytes:
    """Zeros compressed chunk by chunk, so building the bomb never holds it inflated."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\x00" * (1 << 20)
    parts = [deflater.compress(chunk) for _ in range(inflated_bytes // len(chunk))]
    return b"".join([*parts, deflater.flush()])


def test_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip_bomb(200 << 20)  # 200 MiB of zeros in ~200 KB: under the raw limit
    assert len(bomb) < LIMITS.max_batch_bytes
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge) as caught:
            decode_body(bomb, content_encoding="gzip", limits=LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "request_too_large"
    assert peak < 10 * LIMITS.max_batch_bytes  # a few copies of the limit, not 200 MiB


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b'{"a": "\xff\xfe"}', b"[1, 2]", b'"text"', b"null", b'{"a": 1} {"b": 2}'],
)
def test_bodies_that_are_not_a_json_object_are_invalid_json(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(raw, content_encoding=None, limits=LIMITS)
    assert (caught.value.code, caught.value.http_status) == ("invalid_json", 400)


def test_gzipped_non_object_is_invalid_json() -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(gzip.compress(b"[]"), content_encoding="gzip", limits=LIMITS)
    assert caught.value.code == "invalid_json"


# --- write_key_from --------------------------------------------------------------------------------


@pytest.mark.parametrize("user_pass", ["abc123:", "abc123", "abc123:ignored-password", " abc123 :"])
def test_basic_auth_user_name_is_the_key(user_pass: str) -> None:
    key = write_key_from(authorization=basic(user_pass), x_write_key=None, body={"writeKey": "body-key"})
    assert key == "abc123"


def test_documented_basic_example() -> None:
    assert write_key_from(authorization="Basic YWJjMTIzOg==", x_write_key=None, body={}) == "abc123"
    assert (
        write_key_from(authorization="basic YWJjMTIzOg", x_write_key=None, body={}) == "abc123"
    )  # no padding


def test_x_write_key_header_then_body() -> None:
    assert write_key_from(authorization=None, x_write_key=" hdr ", body={"writeKey": "b"}) == "hdr"
    assert write_key_from(authorization=None, x_write_key=None, body={"writeKey": " b "}) == "b"


def test_bearer_token_is_ignored_and_the_body_key_used() -> None:
    key = write_key_from(authorization="Bearer eyJhbGciOi.x.y", x_write_key=None, body={"writeKey": "wk"})
    assert key == "wk"
    assert write_key_from(authorization="Bearer eyJhbGciOi.x.y", x_write_key=None, body={}) is None


@pytest.mark.parametrize(
    "header", ["Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"\xff:").decode(), "Basic"]
)
def test_malformed_basic_counts_as_missing(header: str) -> None:
    assert write_key_from(authorization=header, x_write_key=None, body={}) is None
    assert write_key_from(authorization=header, x_write_key=None, body={"writeKey": "wk"}) == "wk"


@pytest.mark.parametrize("body_key", ["", "   ", None, 123, ["k"]])
def test_empty_or_non_string_keys_are_none(body_key: Any) -> None:
    assert write_key_from(authorization=basic(":pw"), x_write_key="  ", body={"writeKey": body_key}) is None


# --- timestamps ------------------------------------------------------------------------------------


def test_format_and_parse_timestamps() -> None:
    assert format_ts(datetime(2026, 11, 23, 22, 17, 32, 123456, tzinfo=UTC)) == "2026-11-23T22:17:32.123Z"
    assert format_ts(datetime(2026, 11, 23, 23, 17, 32, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-11-23T22:17:32.000Z"
    )
    assert format_ts(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000Z"  # naive is UTC  # noqa: DTZ001
    assert parse_ts("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_ts("2026-01-01T02:00:00") == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert parse_ts("2026-01-01T02:00:00+02:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_ts("yesterday") is None
    assert parse_ts(1767225600) is None
    assert parse_ts(None) is None


# --- normalize_events: batches ---------------------------------------------------------------------


def test_empty_batch_is_valid() -> None:
    assert normalize({"batch": []}) == []


@pytest.mark.parametrize("body", [{}, {"batch": None}, {"batch": {"type": "track"}}, {"batch": "[]"}])
def test_batch_must_be_a_list(body: dict[str, Any]) -> None:
    error = rejected(body)
    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_batch"


def test_more_than_max_batch_events_is_too_many_events() -> None:
    error = rejected({"batch": [track()] * 2501})
    assert isinstance(error, PayloadTooLarge)
    assert (error.code, error.http_status) == ("too_many_events", 413)
    assert len(normalize({"batch": [track()] * 2500})) == 2500


@pytest.mark.parametrize(
    "body",
    [{"batch": [], "context": []}, {"batch": [], "integrations": "all"}, {"batch": [], "sentAt": "soon"}],
)
def test_bad_batch_level_fields_are_invalid_batch(body: dict[str, Any]) -> None:
    assert rejected(body).code == "invalid_batch"


def test_batch_context_is_merged_into_each_event_and_the_event_wins() -> None:
    body = {
        "batch": [
            track(context={"ip": "10.0.0.1", "locale": "de-DE"}),
            track(),
            track(context=None),
        ],
        "context": {"library": {"name": "analytics-python"}, "ip": "192.0.2.1"},
    }
    first, second, third = normalize(body)
    assert first["context"] == {"library": {"name": "analytics-python"}, "ip": "10.0.0.1", "locale": "de-DE"}
    assert (
        second["context"] == third["context"] == {"library": {"name": "analytics-python"}, "ip": "192.0.2.1"}
    )


def test_empty_context_is_omitted() -> None:
    (event,) = normalize({"batch": [track(context={})]})
    assert "context" not in event


def test_batch_integrations_are_merged_and_sent_at_applies_to_events_without_their_own() -> None:
    body = {
        "batch": [
            track(integrations={"Mixpanel": True}, sentAt="2026-11-23T12:00:07Z"),
            track(),
        ],
        "integrations": {"All": False, "Mixpanel": False},
        "sentAt": "2026-11-23T12:00:05Z",
    }
    first, second = normalize(body)
    assert first["integrations"] == {"All": False, "Mixpanel": True}
    assert second["integrations"] == {"All": False, "Mixpanel": False}
    assert first["sentAt"] == "2026-11-23T12:00:07.000Z"
    assert second["sentAt"] == "2026-11-23T12:00:05.000Z"


def test_events_keep_their_order_and_fields() -> None:
    batch = [
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
        track(properties={"revenue": 12.5}),
        {
            "type": "page",
            "anonymousId": "a1",
            "name": "Home",
            "category": "Docs",
            "properties": {"path": "/"},
        },
        {"type": "screen", "userId": "u1", "name": "Settings", "version": 2},
        {"type": "group", "userId": "u1", "groupId": "g1", "traits": {"name": "Acme"}},
        {"type": "alias", "userId": "u1", "previousId": "a1"},
    ]
    events = normalize({"batch": batch})
    assert [e["type"] for e in events] == list(CALL_TYPES)
    assert events[0]["traits"] == {"plan": "pro"}
    assert events[1]["properties"] == {"revenue": 12.5}
    assert (events[2]["name"], events[2]["category"], events[2]["properties"]) == (
        "Home",
        "Docs",
        {"path": "/"},
    )
    assert events[3]["version"] == 2
    assert events[4]["groupId"] == "g1"
    assert events[5]["previousId"] == "a1"


def test_write_key_is_never_copied_into_events() -> None:
    events = normalize({"writeKey": "secret", "batch": [track(writeKey="secret-too"), track()]})
    assert all("writeKey" not in e and "secret" not in orjson.dumps(e).decode() for e in events)
    (single,) = normalize({"writeKey": "secret", **track()}, "track")
    assert "writeKey" not in single


def test_input_objects_are_not_mutated() -> None:
    body = {
        "batch": [track(context={"ip": "1.2.3.4"}, userId=42, timestamp="2026-11-23T12:00:00Z")],
        "context": {"library": {"name": "x"}},
        "writeKey": "k",
        "sentAt": "2026-11-23T12:00:05Z",
    }
    before = copy.deepcopy(body)
    normalize(body)
    assert body == before


# --- normalize_events: single calls ----------------------------------------------------------------


def test_single_call_type_overrides_the_body_type() -> None:
    (event,) = normalize({"type": "identify", "userId": "u1", "event": "Signed Up"}, "track")
    assert event["type"] == "track"
    assert event["event"] == "Signed Up"


def test_unknown_call_type_is_refused() -> None:
    assert rejected({"userId": "u1"}, "purchase").code == "unknown_type"


def test_single_call_error_names_index_zero() -> None:
    error = rejected({"userId": "u1", "properties": [1]}, "track")
    assert error.code == "invalid_events"
    assert codes(error) == [(0, "wrong_type"), (0, "missing_event")]
    assert error.message.startswith("The event is invalid: properties must be an object, got a list.")


# --- enrichment ------------------------------------------------------------------------------------


def test_enrichment_of_a_minimal_event() -> None:
    (event,) = normalize({"batch": [track()]})
    assert event == {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "messageId": "srv-1",
        "receivedAt": "2026-11-23T12:00:10.123Z",
        "timestamp": "2026-11-23T12:00:10.123Z",  # no timestamp given: the server's
    }


def test_message_ids_are_kept_or_assigned() -> None:
    events = normalize({"batch": [track(messageId="m-1"), track(), track(messageId=None), track()]})
    assert [e["messageId"] for e in events] == ["m-1", "srv-1", "srv-2", "srv-3"]


def test_numeric_ids_become_strings() -> None:
    events = normalize(
        {
            "batch": [
                track(userId=42),
                track(userId=None, anonymousId=7.5),
                {"type": "group", "userId": 1, "groupId": 99},
                {"type": "alias", "userId": 2, "previousId": 3},
            ]
        }
    )
    assert events[0]["userId"] == "42"
    assert events[1]["anonymousId"] == "7.5"
    assert "userId" not in events[1]  # null ids are dropped, not stored as null
    assert (events[2]["userId"], events[2]["groupId"]) == ("1", "99")
    assert (events[3]["userId"], events[3]["previousId"]) == ("2", "3")


def test_clock_skew_correction() -> None:
    received = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
    body = {"batch": [track(timestamp="2026-11-23T12:00:00Z")], "sentAt": "2026-11-23T12:00:05Z"}
    (event,) = normalize(body, received_at=received)
    # The device's clock is 5 s behind: queued 5 s on the device, so it happened at 12:00:05 server time.
    assert event["timestamp"] == "2026-11-23T12:00:05.000Z"
    assert event["originalTimestamp"] == "2026-11-23T12:00:00.000Z"
    assert event["sentAt"] == "2026-11-23T12:00:05.000Z"
    assert event["receivedAt"] == "2026-11-23T12:00:10.000Z"


def test_clock_skew_prefers_original_timestamp_and_the_events_sent_at() -> None:
    received = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
    item = track(
        originalTimestamp="2026-11-23T13:00:00.250+01:00",  # 12:00:00.250 UTC
        timestamp="2020-01-01T00:00:00Z",
        sentAt="2026-11-23T12:00:02.250Z",
    )
    (event,) = normalize({"batch": [item], "sentAt": "2030-01-01T00:00:00Z"}, received_at=received)
    assert event["timestamp"] == "2026-11-23T12:00:08.000Z"
    assert event["originalTimestamp"] == "2026-11-23T12:00:00.250Z"


def test_timestamp_without_sent_at_is_kept_and_naive_values_are_utc() -> None:
    (event,) = normalize({"batch": [track(timestamp="2025-02-03T04:05:06.789")]})
    assert event["timestamp"] == event["originalTimestamp"] == "2025-02-03T04:05:06.789Z"
    assert event["receivedAt"] == "2026-11-23T12:00:10.123Z"


def test_sent_at_alone_leaves_the_server_timestamp() -> None:
    (event,) = normalize({"batch": [track()], "sentAt": "2026-11-23T11:00:00+00:00"})
    assert event["timestamp"] == "2026-11-23T12:00:10.123Z"
    assert event["sentAt"] == "2026-11-23T11:00:00.000Z"
    assert "originalTimestamp" not in event


def test_naive_received_at_is_utc() -> None:
    (event,) = normalize({"batch": [track()]}, received_at=datetime(2026, 1, 1, 8))  # noqa: DTZ001
    assert event["receivedAt"] == "2026-01-01T08:00:00.000Z"


def test_nulls_count_as_absent() -> None:
    # analytics-python sends null for every unset field of page().
    item = {
        "type": "page",
        "userId": None,
        "anonymousId": "a1",
        "name": None,
        "category": None,
        "properties": None,
        "context": None,
        "integrations": None,
        "messageId": None,
        "timestamp": None,
        "sentAt": None,
    }
    (event,) = normalize({"batch": [item]})
    assert event["anonymousId"] == "a1"
    assert event["messageId"] == "srv-1"


# --- normalize_events: per-event problems ----------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ("not an object", "invalid_event"),
        ([track()], "invalid_event"),
        ({"userId": "u1", "event": "e"}, "unknown_type"),
        (track(type="purchase"), "unknown_type"),
        (track(type="Track"), "unknown_type"),
        (track(type=["track"]), "unknown_type"),
        (track(userId=None), "missing_user_id"),
        (track(userId=""), "missing_user_id"),
        (track(userId=None, anonymousId=""), "missing_user_id"),
        ({"type": "alias", "anonymousId": "a1", "previousId": "p"}, "missing_user_id"),
        ({"type": "alias", "userId": "u1"}, "missing_previous_id"),
        ({"type": "alias", "userId": "u1", "previousId": None}, "missing_previous_id"),
        ({"type": "group", "userId": "u1"}, "missing_group_id"),
        ({"type": "group", "userId": "u1", "groupId": ""}, "missing_group_id"),
        (track(event=None), "missing_event"),
        (track(event=""), "missing_event"),
        (track(event="   "), "missing_event"),
        ({"type": "track", "userId": "u1"}, "missing_event"),
        (track(event="x" * 256), "invalid_event_name"),
        (track(event=5), "invalid_event_name"),
        (track(userId=True), "wrong_type"),
        (track(userId=None, anonymousId={"id": 1}), "wrong_type"),
        ({"type": "group", "userId": "u1", "groupId": ["g"]}, "wrong_type"),
        ({"type": "alias", "userId": "u1", "previousId": False}, "wrong_type"),
        (track(properties=[1, 2]), "wrong_type"),
        (track(traits="vip"), "wrong_type"),
        (track(context=1), "wrong_type"),
        (track(integrations=True), "wrong_type"),
        ({"type": "page", "userId": "u1", "name": 3}, "wrong_type"),
        ({"type": "screen", "userId": "u1", "category": ["a"]}, "wrong_type"),
        (track(messageId=""), "invalid_message_id"),
        (track(messageId="m" * 101), "invalid_message_id"),
        (track(messageId=123), "invalid_message_id"),
        (track(timestamp="yesterday"), "invalid_timestamp"),
        (track(timestamp=1767225600), "invalid_timestamp"),
        (track(originalTimestamp="2026-13-01T00:00:00Z"), "invalid_timestamp"),
        (track(sentAt=""), "invalid_timestamp"),
        # Each in range, but the clock-skew correction lands in 2325.
        (track(originalTimestamp="2199-01-01T00:00:00Z", sentAt="1900-06-01T00:00:00Z"), "invalid_timestamp"),
        (track(timestamp="0001-01-01T00:00:00+14:00"), "invalid_timestamp"),
        (track(sentAt="2200-01-02T00:00:00Z"), "invalid_timestamp"),
        (track(userId="u" * 256), "invalid_id"),
        (track(userId="u\x00"), "invalid_id"),
        (track(userId=None, anonymousId="a" * 300), "invalid_id"),
        ({"type": "alias", "userId": "u1", "previousId": "p\x07"}, "invalid_id"),
        ({"type": "group", "userId": "u1", "groupId": "g" * 256}, "invalid_id"),
        (
            {"type": "identify", "userId": "u1", "traits": {"createdAt": "0001-01-01T00:00:00+14:00"}},
            "invalid_trait",
        ),
        ({"type": "identify", "userId": "u1", "traits": {"trialEndsAt": "2301-01-01"}}, "invalid_trait"),
        (
            {"type": "identify", "userId": "u1", "context": {"traits": {"createdAt": "1800-01-01"}}},
            "invalid_trait",
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"email": "a" * 10_000 + "@example.com"}},
            "invalid_trait",
        ),
        ({"type": "identify", "userId": "u1", "traits": {"email": "a\x00@example.com"}}, "invalid_trait"),
        ({"type": "identify", "userId": "u1", "traits": {"email": "not an email"}}, "invalid_trait"),
        ({"type": "identify", "userId": "u1", "traits": {"email": ["a@example.com"]}}, "invalid_trait"),
        ({"type": "identify", "userId": "u1", "traits": {"phone": "+1" + "5" * 70}}, "invalid_trait"),
    ],
)
def test_each_problem_has_its_code(item: Any, code: str) -> None:
    error = rejected({"batch": [track(), item]})
    assert isinstance(error, InvalidInput)
    assert error.http_status == 400
    assert error.code == code
    assert codes(error) == [(1, code)]
    assert error.data["invalid_count"] == 1


def test_boundaries_are_accepted() -> None:
    events = normalize({"batch": [track(event="x" * 255, messageId="m" * 100, userId=0)]})
    assert events[0]["userId"] == "0"


def test_messages_name_the_field_and_the_type_received() -> None:
    error = rejected({"batch": [track()] * 3 + [track(properties=[1])]})
    assert error.data["errors"][0]["message"] == "properties must be an object, got a list"
    assert error.message == (
        "1 of 4 events is invalid; the first: event 3: properties must be an object, got a list. Nothing was stored."
    )
    unknown = rejected({"batch": [{"userId": "u"}]})
    assert all(t in unknown.data["errors"][0]["message"] for t in CALL_TYPES)


def test_oversized_event_among_valid_ones_is_event_too_large() -> None:
    limits = WireLimits(max_event_bytes=1024)
    batch = [track(), track(properties={"blob": "x" * 2000}), track()]
    error = rejected({"batch": batch}, limits=limits)
    assert isinstance(error, PayloadTooLarge)
    assert (error.code, error.http_status) == ("event_too_large", 413)
    assert codes(error) == [(1, "event_too_large")]
    assert "1024" in error.data["errors"][0]["message"]


def test_single_oversized_event_is_event_too_large() -> None:
    error = rejected({"userId": "u1", "event": "e", "properties": {"b": "x" * (33 * 1024)}}, "track")
    assert isinstance(error, PayloadTooLarge)
    assert error.code == "event_too_large"


def test_oversized_and_invalid_events_together_are_invalid_events() -> None:
    batch = [track(properties={"blob": "x" * 2000}), track(event=None)]
    error = rejected({"batch": batch}, limits=WireLimits(max_event_bytes=1024))
    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_events"
    assert codes(error) == [(0, "event_too_large"), (1, "missing_event")]


def test_several_problems_are_all_listed_and_nothing_is_returned() -> None:
    batch = [
        track(),
        track(properties=[1]),
        track(),
        {"type": "identify"},
        42,
        {"type": "group", "userId": True, "timestamp": "nope"},
    ]
    error = rejected({"batch": batch})
    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_events"
    assert codes(error) == [
        (1, "wrong_type"),
        (3, "missing_user_id"),
        (4, "invalid_event"),
        (5, "wrong_type"),
        (5, "missing_group_id"),
        (5, "invalid_timestamp"),
    ]
    assert error.data["invalid_count"] == 4
    assert error.message.startswith(
        "4 of 6 events are invalid; the first: event 1: properties must be an object"
    )
    assert error.message.endswith("Nothing was stored.")


def test_listed_problems_are_capped_but_counted() -> None:
    error = rejected({"batch": [track(userId=None)] * 150})
    assert error.code == "invalid_events"
    assert len(error.data["errors"]) == 100
    assert error.data["invalid_count"] == 150


def test_range_edges_and_ordinary_traits_are_accepted() -> None:
    """The supported range includes both its ends; traits that merely look odd are kept as sent."""
    edge: dict[str, Any] = {"type": "identify", "userId": "u1", "timestamp": "1900-01-01T00:00:00Z"}
    edge["traits"] = {
        "createdAt": "2200-01-01T00:00:00Z",
        "code": "00010101",
        "email": "a@example.com",
        "phone": " ",
    }
    # 1899-12-31 23:00 at -02:00 is 1900-01-01 01:00 in UTC: inside the range.
    late = track(originalTimestamp="1899-12-31T23:00:00-02:00")
    events = normalize({"batch": [edge, late]})
    assert events[0]["traits"]["createdAt"] == "2200-01-01T00:00:00Z"
    assert events[1]["originalTimestamp"] == "1900-01-01T01:00:00.000Z"


def test_an_out_of_range_created_at_names_the_trait_and_the_range() -> None:
    event = {"type": "identify", "userId": "u1", "traits": {"createdAt": "0001-01-01T00:00:00+14:00"}}
    error = rejected({"batch": [event]})
    assert "traits.createdAt" in error.message and "1900-01-01 to 2200-01-01" in error.message
