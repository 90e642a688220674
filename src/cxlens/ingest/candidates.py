"""Staged text -> ``_cand``: typed values, normalised identities and one rejection reason per bad
row, in a single set-based statement (plus a second pass for the few phones SQL cannot read)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from cxlens.customers.model import normalize_phones
from cxlens.ingest.base import EntitySpec
from cxlens.ingest.coerce import Plan, field_expr, identity_expr, required_reason, scale_checks
from cxlens.ingest.options import ImportOptions
from cxlens.storage.dialects import quote_ident, quote_literal
from cxlens.storage.store import Session

CAND = "_cand"


def build_candidates(
    s: Session, *, spec: EntitySpec, staged: str, plan: Plan, options: ImportOptions
) -> None:
    """Create ``_cand(_row, _line, <fields>, <identities>, _hash, _err_col, _err_reason)``."""
    d = s.dialect
    values: dict[str, str] = {}
    pre: dict[str, str] = {}
    checks: list[tuple[str, str]] = []  # (reason expression, source column) in check order
    for field in spec.fields:
        coercion = field_expr(field, _raw(plan, field.name), d=d, tz=options.tz)
        values[field.name], column = coercion.value, plan.sources.get(field.name, field.name)
        pre.update(coercion.pre)
        checks.append((coercion.reason, column))
        if field.required:
            checks.append((required_reason(field, coercion.value), column))
    for name in plan.identities:
        coercion = identity_expr(name, _raw(plan, name), d=d)
        values[name] = coercion.value
        pre.update(coercion.pre)
        checks.append((coercion.reason, plan.sources[name]))
    values["source"] = f"coalesce({values['source']}, {quote_literal(options.source)})"
    _add_extras(plan, spec, values, d.json_object_from)
    if spec.name == "responses":
        values["scale_min"], values["scale_max"], reason = scale_checks(values)
        checks.append((reason, plan.sources.get("score", "score")))
    if spec.needs_customer:
        checks.append((_no_identity(plan), ", ".join(plan.sources[i] for i in plan.identities)))
    values["_hash"] = _row_hash(plan, d.md5)
    if "idempotency_key" in plan.sources:  # the hash is only the fallback key: spare rows that have one
        values["_hash"] = f"CASE WHEN {_raw(plan, 'idempotency_key')} IS NULL THEN {values['_hash']} END"
    if "phone" in plan.identities:
        values["_phone_raw"] = _raw(plan, "phone")  # for the phonenumbers pass below
    _create(s, staged, plan, pre, values, checks)
    if "phone" in plan.identities:
        _finish_phones(s, plan, options)
    _check_references(s, spec, plan)


def _raw(plan: Plan, name: str) -> str:
    """The field's source text; the innermost query has already trimmed it and emptied blanks."""
    if name in plan.sources:
        return quote_ident(plan.sources[name])
    if name in plan.constants:
        return quote_literal(plan.constants[name])
    return "CAST(NULL AS VARCHAR)"


def _add_extras(
    plan: Plan,
    spec: EntitySpec,
    values: dict[str, str],
    json_object_from: Callable[[list[tuple[str, str]]], str],
) -> None:
    if not spec.extras_field or not plan.extras:
        return
    pairs = [(c, _json_value(quote_ident(c))) for c in plan.extras]
    extras = json_object_from(pairs)
    field = spec.extras_field
    if field not in plan.sources and field not in plan.constants:
        values[field] = extras  # no column of its own to merge with: skip the per-row merge
        return
    own = values[field]
    values[field] = f"CASE WHEN {own} IS NULL THEN {extras} ELSE json_merge_patch({extras}, {own}) END"


def _json_value(raw: str) -> str:
    """Nested objects and arrays (JSON Lines) stay structured; everything else is a JSON string."""
    nested = f"(starts_with({raw}, '{{') OR starts_with({raw}, '[')) AND json_valid({raw})"
    return f"CASE WHEN {nested} THEN CAST({raw} AS JSON) ELSE to_json({raw}) END"


def _no_identity(plan: Plan) -> str:
    present = " OR ".join(f"{_raw(plan, i)} IS NOT NULL" for i in plan.identities)
    return (
        f"CASE WHEN NOT ({present}) THEN 'no identity: the row needs one of {', '.join(plan.identities)}' END"
    )


def _row_hash(plan: Plan, md5: Callable[[str], str]) -> str:
    """A content hash of the mapped source columns: the default idempotency key, independent of
    the row's position so a reordered re-import is still a no-op."""
    columns = sorted(set(plan.sources.values()) | set(plan.extras))
    parts = ", ".join(f"coalesce({quote_ident(c)}, '')" for c in columns)
    return "'h:' || " + md5(f"concat_ws(chr(31), {parts})")


def _create(
    s: Session,
    staged: str,
    plan: Plan,
    pre: dict[str, str],
    values: dict[str, str],
    checks: list[tuple[str, str]],
) -> None:
    """Four nested projections, each computing its expressions once per row: trimmed text ->
    intermediate casts -> values and reasons -> the first reason of the row."""
    used = sorted(set(plan.sources.values()) | set(plan.extras))
    trimmed = ", ".join(f"NULLIF(trim({quote_ident(c)}), '') AS {quote_ident(c)}" for c in used)
    inner = f"SELECT _row, _line{', ' + trimmed if trimmed else ''} FROM {quote_ident(staged)}"
    if pre:
        inner = f"SELECT *, {', '.join(f'{expr} AS {name}' for name, expr in pre.items())} FROM ({inner})"
    computed = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in values.items())
    reasons = ", ".join(f"{expr} AS _r{i}" for i, (expr, _) in enumerate(checks))
    names = ", ".join(quote_ident(n) for n in values)
    reason = "coalesce(" + ", ".join(f"_r{i}" for i in range(len(checks))) + ")"
    column = (
        "CASE "
        + " ".join(f"WHEN _r{i} IS NOT NULL THEN {quote_literal(col)}" for i, (_, col) in enumerate(checks))
        + " END"
    )
    s.execute(
        f"CREATE OR REPLACE TEMP TABLE {CAND} AS SELECT _row, _line, {names}, "
        f"{column} AS _err_col, {reason} AS _err_reason "
        f"FROM (SELECT _row, _line, {computed}, {reasons} FROM ({inner}))"
    )


def _finish_phones(s: Session, plan: Plan, options: ImportOptions) -> None:
    """Phones SQL could not read as E.164 are parsed by ``phonenumbers`` once per distinct value."""
    pending = s.fetch_arrow(
        f"SELECT DISTINCT _phone_raw AS raw FROM {CAND} WHERE phone IS NULL AND _phone_raw IS NOT NULL"
    )
    if pending.num_rows == 0:
        return
    raws = pending.column("raw").to_pylist()
    s.put_arrow(
        "_phones", pa.table({"raw": raws, "e164": normalize_phones(raws, region=options.phone_region)})
    )
    s.execute(
        f"UPDATE {CAND} SET phone = p.e164, "
        f"_err_col = CASE WHEN p.e164 IS NULL AND _err_reason IS NULL "
        f"THEN {quote_literal(plan.sources['phone'])} ELSE _err_col END, "
        "_err_reason = coalesce(_err_reason, CASE WHEN p.e164 IS NULL THEN 'phone: ' || p.raw || "
        "' is not a phone number (write +<country code><number>, or set CXLENS_DEFAULT_PHONE_REGION)' END) "
        f"FROM _phones p WHERE p.raw = {CAND}._phone_raw AND {CAND}.phone IS NULL"
    )
    s.drop_temp("_phones")


def _reject(s: Session, *, where: str, column: str, reason: str) -> None:
    """Mark still-valid rows matching ``where`` as rejected with ``reason`` (a SQL expression)."""
    s.execute(
        f"UPDATE {CAND} SET _err_col = {quote_literal(column)}, _err_reason = {reason} "
        f"WHERE _err_reason IS NULL AND ({where})"
    )


def _check_references(s: Session, spec: EntitySpec, plan: Plan) -> None:
    """Rows that name something that does not exist: a customer id, or a case."""
    if "customer_id" in plan.identities:
        _reject(
            s,
            where=f"customer_id IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM customers k WHERE k.customer_id = {CAND}.customer_id)",
            column=plan.sources["customer_id"],
            reason="'customer_id: ' || customer_id || ' is not a known customer'",
        )
    if spec.name == "case_events":
        _reject(
            s,
            where=f"NOT EXISTS (SELECT 1 FROM cases k WHERE k.source = {CAND}.source "
            f"AND k.external_id = {CAND}.case_external_id)",
            column=plan.sources.get("case_external_id", "case_external_id"),
            reason="'case_external_id: no case ' || case_external_id || ' from source ' || source",
        )
