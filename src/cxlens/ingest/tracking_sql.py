"""SQL expressions that read a Segment event (a JSON column ``j`` and its ``type``) into the data
model's fields: channel, journey stage, interaction name, properties, profile traits.

Kept apart from the processor so the vocabulary is easy to read and extend.
"""

from __future__ import annotations

from cxlens.ingest.base import CHANNELS, STAGES, SYNONYMS
from cxlens.storage.dialects import quote_literal

# Channel words Segment and RudderStack libraries use beyond ours ("server" says nothing about the
# customer's channel, so it falls through to the next rule).
_CHANNEL_WORDS = {**SYNONYMS["channel"], **{c: c for c in CHANNELS}, "browser": "web"}
_APP_OS = ("ios", "ipados", "android", "tvos", "watchos")
_APP_DEVICES = ("ios", "android", "mobile", "tablet")

# Journey stages of the events in Segment's semantic specs (e-commerce, B2B SaaS), for events
# that do not say their stage in a ``stage`` property (docs/api.md, "Mapping into the model").
SEMANTIC_STAGES = {
    "products searched": "consideration",
    "product list viewed": "consideration",
    "product list filtered": "consideration",
    "product viewed": "consideration",
    "product clicked": "consideration",
    "product added": "consideration",
    "product added to wishlist": "consideration",
    "cart viewed": "consideration",
    "checkout started": "purchase",
    "checkout step completed": "purchase",
    "payment info entered": "purchase",
    "order completed": "purchase",
    "order updated": "purchase",
    "order cancelled": "support",
    "order refunded": "support",
    "product reviewed": "advocacy",
    "product shared": "advocacy",
    "cart shared": "advocacy",
    "signed up": "onboarding",
    "account created": "onboarding",
    "trial started": "onboarding",
    "signed in": "usage",
    "trial ended": "retention",
    "account deleted": "retention",
}

# Traits that fill profile fields; every other trait (``createdAt`` too) is kept in the attributes.
PROFILE_TRAITS = ("email", "phone", "name", "segment")


# Everything the processor reads from an event, extracted in one pass (the JSON is parsed once per
# event; objects come back as JSON text). Column name -> JSON path.
EXTRACTED = {
    "source": "$._source",
    "message_id": "$.messageId",
    "type": "$.type",
    "user_id": "$.userId",
    "anonymous_id": "$.anonymousId",
    "received_text": "$.receivedAt",
    "timestamp_text": "$.timestamp",
    "event": "$.event",
    "name": "$.name",
    "previous_id": "$.previousId",
    "group_id": "$.groupId",
    "properties": "$.properties",
    "context": "$.context",
    "top_traits": "$.traits",
    "context_traits": "$.context.traits",
    "property_channel": "$.properties.channel",
    "call_channel": "$.channel",
    "context_channel": "$.context.channel",
    "context_app": "$.context.app",
    "context_os": "$.context.os.name",
    "context_device": "$.context.device.type",
    "context_page": "$.context.page",
    "user_agent": "$.context.userAgent",
    "property_stage": "$.properties.stage",
}


def extracted_columns() -> str:
    """``f[1] AS source, …`` over ``json_extract_string(line, [paths]) AS f`` (see EXTRACTED)."""
    return ", ".join(f"f[{i}] AS {name}" for i, name in enumerate(EXTRACTED, start=1))


def extraction(line: str) -> str:
    paths = ", ".join(quote_literal(p) for p in EXTRACTED.values())
    return f"json_extract_string({line}, [{paths}])"


def _channel_word(expr: str) -> str:
    cases = " ".join(f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in _CHANNEL_WORDS.items())
    return f"CASE lower(trim({expr})) {cases} END"


def _in(expr: str, values: tuple[str, ...]) -> str:
    return f"lower({expr}) IN ({', '.join(quote_literal(v) for v in values)})"


def channel_expr() -> str:
    """An explicit ``channel`` property wins, then the call's own channel field, then what the call
    type and context say (a screen or a mobile OS is the app, a page or a browser the web)."""
    explicit = [_channel_word(c) for c in ("property_channel", "call_channel", "context_channel")]
    app = f"context_app IS NOT NULL OR {_in('context_os', _APP_OS)} OR {_in('context_device', _APP_DEVICES)}"
    web = "context_page IS NOT NULL OR user_agent IS NOT NULL"
    by_type = "CASE type WHEN 'page' THEN 'web' WHEN 'screen' THEN 'app' END"
    by_context = f"CASE WHEN {app} THEN 'app' WHEN {web} THEN 'web' END"
    return f"coalesce({', '.join(explicit)}, {by_type}, {by_context}, 'other')"


def stage_expr() -> str:
    stages = ", ".join(quote_literal(s) for s in STAGES)
    given = "lower(trim(property_stage))"
    semantic = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in SEMANTIC_STAGES.items()
    )
    return (
        f"CASE WHEN {given} IN ({stages}) THEN {given} "
        f"WHEN type = 'track' THEN CASE lower(trim(event)) {semantic} END END"
    )


def name_expr() -> str:
    """Track calls keep their event name; pages and screens read as Segment names them elsewhere."""
    return (
        "CASE type WHEN 'track' THEN event "
        "WHEN 'page' THEN CASE WHEN name IS NULL THEN 'Loaded a Page' ELSE 'Viewed ' || name || ' Page' END "
        "ELSE CASE WHEN name IS NULL THEN 'Loaded a Screen' ELSE 'Viewed ' || name || ' Screen' END END"
    )


def properties_expr() -> str:
    """The call's properties as sent, plus its context under ``$context`` (without the library
    and the traits, which say nothing about this interaction)."""
    props = "coalesce(CAST(properties AS JSON), CAST('{}' AS JSON))"
    kept = 'json_merge_patch(CAST(context AS JSON), \'{"library": null, "traits": null}\')'
    return (
        f"CASE WHEN context IS NULL OR {kept} = CAST('{{}}' AS JSON) THEN {props} "
        f"ELSE json_merge_patch({props}, json_object('$context', {kept})) END"
    )


def identify_traits_expr() -> str:
    """An identify call's traits: RudderStack's libraries send them in ``context.traits``,
    Segment's at the top level; both are read, the top level winning."""
    return (
        "CASE WHEN type = 'identify' THEN json_merge_patch("
        "coalesce(CAST(context_traits AS JSON), CAST('{}' AS JSON)), "
        "coalesce(CAST(top_traits AS JSON), CAST('{}' AS JSON))) END"
    )


def traits_columns() -> dict[str, str]:
    """Profile fields from the ``traits`` column (an identify's traits; NULL for other calls)."""

    def trait(name: str) -> str:
        return f"json_extract_string(traits, {quote_literal('$.' + name)})"

    full_name = f"nullif(trim(concat_ws(' ', {trait('firstName')}, {trait('lastName')})), '')"
    created = trait("createdAt")
    removed = ", ".join(f'"{t}": null' for t in PROFILE_TRAITS)
    return {
        "email": trait("email"),
        "phone": trait("phone"),
        "name": f"coalesce({trait('name')}, {full_name})",
        "segment": trait("segment"),
        # Only ISO dates: a number could be seconds or milliseconds, and guessing wrong misleads.
        "signed_up_at": f"CASE WHEN regexp_matches({created}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN {created} END",
        "attributes": f"nullif(CAST(json_merge_patch(traits, '{{{removed}}}') AS VARCHAR), '{{}}')",
    }
