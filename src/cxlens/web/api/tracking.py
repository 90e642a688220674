"""``/v1/*``: the Segment HTTP Tracking API (docs/api.md, "Tracking API").

Each route only reads the body within its size limit, hands it to the wire rules for
validation, authenticates the write key and waits for the events to be durably spooled.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxlens.errors import NotFound, PayloadTooLarge, Unauthenticated, WorkspaceError
from cxlens.ingest import CALL_TYPES, LiveIngest, WireLimits, decode_body, normalize_events, write_key_from

router = APIRouter(prefix="/v1", tags=["tracking"])
_SUCCESS = b'{"success":true}'

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


def _live(request: Request) -> LiveIngest:
    live: LiveIngest | None = request.app.state.live
    if live is None:
        raise WorkspaceError("The tracking API is not running in this process; start it with `cxlens serve`.")
    return live


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes ``limit`` (a declared length is checked first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit:,} bytes.", code="request_too_large")
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The request body is larger than {limit:,} bytes.", code="request_too_large"
            )
        parts.append(chunk)
    return b"".join(parts)


async def _ingest(request: Request, call_type: str | None) -> Response:
    live = _live(request)
    limits: WireLimits = request.app.state.wire_limits
    raw = await _read_body(request, limits.max_batch_bytes)
    body = decode_body(raw, content_encoding=request.headers.get("content-encoding"), limits=limits)
    key = write_key_from(
        authorization=request.headers.get("authorization"),
        x_write_key=request.headers.get("x-write-key"),
        body=body,
    )
    if key is None:
        raise Unauthenticated(
            "No write key: send it as the HTTP Basic user name, in X-Write-Key, or as writeKey in the body.",
            code="missing_write_key",
        )
    source = live.sources.source_for(key)
    if source is None:
        raise Unauthenticated("The write key is not valid (unknown or revoked).", code="invalid_write_key")
    events = normalize_events(
        body, call_type=call_type, received_at=datetime.now(UTC), limits=limits, new_message_id=_message_id
    )
    await live.accept(source, events)
    return Response(_SUCCESS, media_type="application/json")


def _message_id() -> str:
    return f"cxl-{uuid.uuid4()}"


@router.post("/batch", openapi_extra=_BODY_DOC, summary="Send a batch of calls of any type")
async def batch(request: Request) -> Response:
    return await _ingest(request, None)


@router.post("/import", openapi_extra=_BODY_DOC, summary="Alias of /v1/batch (analytics-ruby posts here)")
async def import_(request: Request) -> Response:
    return await _ingest(request, None)


def _single(call_type: str) -> None:
    async def endpoint(request: Request) -> Response:
        return await _ingest(request, call_type)

    router.add_api_route(
        f"/{call_type}",
        endpoint,
        methods=["POST"],
        openapi_extra=_BODY_DOC,
        summary=f"Send one {call_type} call",
        name=call_type,
    )


for _call_type in CALL_TYPES:
    _single(_call_type)


@router.post("/{call_type}", include_in_schema=False)
async def unknown(call_type: str) -> None:
    raise NotFound(
        f"/v1/{call_type} is not a tracking call; use one of {', '.join(CALL_TYPES)} or batch.",
        code="unknown_type",
    )
