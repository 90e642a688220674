"""Typed, validated rows from staged text: one SQL statement per import.

Every staged column is text. For each field of the entity this module builds an expression that
coerces it and a check that explains, in words a user understands, why a row cannot be used. The
first failing check of a row becomes its rejection reason; good rows carry ``_err_reason IS NULL``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cxlens.core.instants import RANGE_REASON, sql_out_of_range
from cxlens.customers.model import CONTROL_PATTERN, EMAIL_PATTERN, max_identity_chars
from cxlens.errors import ImportFailed, MappingError
from cxlens.ingest.base import (
    IDENTITY_FIELDS,
    METRIC_SCALES,
    SYNONYMS,
    EntitySpec,
    FieldSpec,
    is_identity_field,
)
from cxlens.ingest.options import ImportOptions
from cxlens.storage.dialects import Dialect, quote_ident, quote_literal

_OFFSET = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
_E164 = r"^\+[1-9][0-9]{6,14}$"


@dataclass(frozen=True)
class Plan:
    """How each target field is read: ``sources`` maps field -> staged column (or None with a
    constant), ``extras`` are unmapped columns that go into the entity's JSON extras field."""

    sources: dict[str, str]
    constants: dict[str, str]
    identities: tuple[str, ...]
    extras: tuple[str, ...]


def plan_columns(spec: EntitySpec, columns: list[str], options: ImportOptions) -> Plan:
    """Decide which staged column feeds which field; explain what is missing or unknown."""
    known = set(spec.field_names)
    mapping = dict(options.mapping)
    for source, target in mapping.items():
        if source not in columns:
            raise MappingError(
                f"--map names column {source!r}, which the file does not have. Columns: {', '.join(columns)}",
                data={"columns": columns},
            )
        if target not in known and not is_identity_field(target):
            raise MappingError(
                f"--map target {target!r} is not a field of {spec.name}. Fields: "
                f"{', '.join(spec.field_names)}, and identities {', '.join(IDENTITY_FIELDS)}, "
                "customer_id, external:<system>, social:<network>."
            )
    sources = {target: source for source, target in mapping.items()}
    for column in columns:
        if column not in mapping and (column in known or is_identity_field(column)):
            sources.setdefault(column, column)
    constants = {k: v for k, v in options.constants.items() if k not in sources}
    _check_required(spec, sources, constants)
    identities = tuple(f for f in sources if is_identity_field(f))
    if spec.needs_customer and not identities:
        raise ImportFailed(
            f"The {spec.name} file has no identity column. Add or map one of "
            f"{', '.join(IDENTITY_FIELDS)}, customer_id or external:<system> "
            "(e.g. --map CustomerID=external:crm) so each row can be tied to its customer."
        )
    used = set(sources.values())
    extras = tuple(c for c in columns if c not in used) if spec.extras_field else ()
    return Plan(sources, constants, identities, extras)


def _check_required(spec: EntitySpec, sources: dict[str, str], constants: dict[str, str]) -> None:
    missing = [
        f.name for f in spec.fields if f.required and f.name not in sources and f.name not in constants
    ]
    if missing:
        raise ImportFailed(
            f"The {spec.name} file lacks required column(s): {', '.join(missing)}. "
            'Rename them in the file or map them, e.g. --map "Order Date=occurred_at".',
            data={"missing": missing},
        )


def _enum_expr(raw: str, spec: FieldSpec) -> str:
    lowered = f"lower({raw})"
    synonyms = SYNONYMS.get(spec.name, {})
    if not synonyms:
        return lowered
    whens = " ".join(f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in synonyms.items())
    return f"CASE {lowered} {whens} ELSE {lowered} END"


@dataclass(frozen=True)
class Coercion:
    """How one field is read. ``pre`` are intermediate columns computed once per row in an inner
    query (casts, regex tests); ``value`` and ``reason`` refer to them by name, so nothing is
    evaluated twice however many checks use it."""

    value: str
    reason: str = "NULL"
    pre: dict[str, str] = field(default_factory=dict)


def _col(name: str, part: str) -> str:
    return quote_ident(f"__{name}_{part}")


def field_expr(spec: FieldSpec, raw: str, *, d: Dialect, tz: str | None) -> Coercion:
    """Value and rejection reason of one field, from its trimmed text ``raw`` (NULL if empty)."""
    name = spec.name
    if spec.type in ("number", "integer"):
        num = _col(name, "num")
        pre = {num: d.try_cast(raw, "DOUBLE PRECISION")}
        if spec.type == "number":
            return Coercion(
                num,
                _reason(f"{raw} IS NOT NULL AND {num} IS NULL", f"{name}: ", raw, " is not a number"),
                pre,
            )
        value = f"CAST(CASE WHEN {num} = floor({num}) THEN {num} END AS BIGINT)"
        bad = f"{raw} IS NOT NULL AND ({num} IS NULL OR {num} <> floor({num}))"
        return Coercion(value, _reason(bad, f"{name}: ", raw, " is not a whole number"), pre)
    if spec.type == "json":
        ok = _col(name, "valid")
        value = f"CASE WHEN {ok} THEN CAST({raw} AS JSON) END"
        bad = f"{raw} IS NOT NULL AND NOT {ok}"
        return Coercion(
            value, _reason(bad, f"{name}: ", raw, " is not valid JSON"), {ok: f"json_valid({raw})"}
        )
    if spec.type == "enum":
        word = _col(name, "enum")
        allowed = ", ".join(quote_literal(c) for c in spec.choices)
        bad = f"{word} IS NOT NULL AND {word} NOT IN ({allowed})"
        reason = _reason(bad, f"{name}: ", raw, f" is not one of {', '.join(spec.choices)}")
        return Coercion(word, reason, {word: _enum_expr(raw, spec)})
    if spec.type == "timestamp":
        return _timestamp(name, raw, d=d, tz=tz)
    return Coercion(raw)


def _timestamp(name: str, raw: str, *, d: Dialect, tz: str | None) -> Coercion:
    aware, naive, offset = _col(name, "aware"), _col(name, "naive"), _col(name, "offset")
    pre = {
        aware: d.try_cast(raw, "TIMESTAMPTZ"),
        naive: d.try_cast(raw, "TIMESTAMP"),
        offset: d.regexp_matches(raw, _OFFSET),
    }
    if tz:
        value = f"CASE WHEN {offset} THEN {aware} ELSE {d.at_time_zone(naive, quote_literal(tz))} END"
        no_zone = "FALSE"
    else:
        value = f"CASE WHEN {offset} THEN {aware} END"
        no_zone = f"NOT {offset} AND {naive} IS NOT NULL"
    reason = (
        f"CASE WHEN {raw} IS NOT NULL AND {aware} IS NULL AND {naive} IS NULL "
        f"THEN {quote_literal(name + ': ')} || {raw} || ' is not a date/time' "
        f"WHEN {no_zone} THEN {quote_literal(name + ': ')} || {raw} || "
        "' has no time zone; pass --tz (e.g. --tz UTC or --tz Europe/Paris)' "
        # A valid but absurd instant (year 1 at +14:00) would break every later read of it.
        f"WHEN {sql_out_of_range(value)} THEN {quote_literal(name + ': ')} || {raw} || "
        f"{quote_literal(' ' + RANGE_REASON)} END"
    )
    return Coercion(value, reason, pre)


def _reason(condition: str, prefix: str, raw: str, suffix: str) -> str:
    return f"CASE WHEN {condition} THEN {quote_literal(prefix)} || {raw} || {quote_literal(suffix)} END"


def identity_expr(name: str, raw: str, *, d: Dialect) -> Coercion:
    """Normalised identity value and its rejection reason (phones are finished in a second pass).
    Every kind is bounded and free of control characters (customers.model.identity_problem)."""
    bounds = _identity_bounds(name, raw, d=d)
    if name == "email":
        lowered = _col(name, "lower")
        bad = f"{raw} IS NOT NULL AND NOT {d.regexp_matches(lowered, EMAIL_PATTERN)}"
        reason = f"coalesce({bounds}, {_reason(bad, 'email: ', raw, ' is not an email address')})"
        return Coercion(lowered, reason, {lowered: f"lower({raw})"})
    if name == "phone":
        cleaned = _col(name, "clean")
        pre = {cleaned: f"regexp_replace(regexp_replace({raw}, '[^0-9+]', '', 'g'), '^00', '+')"}
        return Coercion(f"CASE WHEN {d.regexp_matches(cleaned, _E164)} THEN {cleaned} END", bounds, pre)
    if name.startswith("social:"):
        return Coercion(f"lower(ltrim({raw}, '@'))", bounds)
    return Coercion(raw, bounds)


def _identity_bounds(name: str, raw: str, *, d: Dialect) -> str:
    """Control characters (a NUL byte) and overlong values, whatever the kind; the value itself is
    not repeated in the reason when it is too long to read."""
    limit = max_identity_chars(name)
    label = quote_literal(f"{name}: ")
    return (
        f"CASE WHEN {d.regexp_matches(raw, CONTROL_PATTERN)} THEN {label} || "
        "'the value contains a control character' "
        f"WHEN length({raw}) > {limit} THEN {label} || 'the value has ' || CAST(length({raw}) AS VARCHAR) "
        f"|| {quote_literal(f' characters; at most {limit} are allowed')} END"
    )


def required_reason(spec: FieldSpec, value: str) -> str:
    return f"CASE WHEN {value} IS NULL THEN {quote_literal('missing ' + spec.name)} END"


def scale_checks(values: dict[str, str]) -> tuple[str, str, str]:
    """Responses: default scale by metric, and the out-of-scale reason."""
    metric = values["metric"]
    lo_default = " ".join(f"WHEN {quote_literal(m)} THEN {lo}" for m, (lo, _) in METRIC_SCALES.items())
    hi_default = " ".join(f"WHEN {quote_literal(m)} THEN {hi}" for m, (_, hi) in METRIC_SCALES.items())
    lo = f"coalesce({values['scale_min']}, CASE {metric} {lo_default} END)"
    hi = f"coalesce({values['scale_max']}, CASE {metric} {hi_default} END)"
    score = values["score"]
    reason = (
        f"CASE WHEN {lo} IS NULL OR {hi} IS NULL THEN 'scale_min/scale_max: a metric of kind '"
        f" || {metric} || ' needs its scale' "
        f"WHEN {score} < {lo} OR {score} > {hi} THEN 'score: ' || CAST({score} AS VARCHAR) || "
        f"' is outside the ' || {metric} || ' scale ' || CAST({lo} AS VARCHAR) || '-' || "
        f"CAST({hi} AS VARCHAR) END"
    )
    return lo, hi, reason
