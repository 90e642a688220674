"""Loading customer profiles: resolve each row to its customer, then fill the profile with the
rows' non-empty values (for each field, the last non-empty value for that customer wins).

Rows from an untrusted writer (a browser source, whose write key is public) only fill what is
empty on a profile a trusted writer (an import, a server source) has set, and add attribute keys
without replacing existing ones; they never change the contact email or phone once there."""

from __future__ import annotations

from cxlens.ingest.load import CHUNK, ChunkResult, resolve
from cxlens.storage.store import Session

_PROFILE = ("name", "segment", "value", "signed_up_at", "churned_at", "churn_reason")


def load_customers(s: Session, identities: tuple[str, ...], *, trusted: bool = True) -> ChunkResult:
    result = ChunkResult()
    resolve(s, identities, result)
    email = "c.email" if "email" in identities else "NULL"
    phone = "c.phone" if "phone" in identities else "NULL"
    picked = {f: f"c.{f}" for f in (*_PROFILE, "attributes")} | {"email": email, "phone": phone}
    last_values = ", ".join(
        f"arg_max({expr}, c._row) FILTER (WHERE {expr} IS NOT NULL) AS {f}" for f, expr in picked.items()
    )
    s.execute(
        f"CREATE OR REPLACE TEMP TABLE _profile AS SELECT rc.customer_key, {last_values} "
        f"FROM {CHUNK} c JOIN _row_customer rc USING (_row) GROUP BY rc.customer_key"
    )
    profile = (*_PROFILE, "email", "phone")
    changed = " OR ".join(f"(p.{f} IS NOT NULL AND p.{f} IS DISTINCT FROM k.{f})" for f in profile)
    changed += " OR (p.attributes IS NOT NULL AND json_merge_patch(coalesce(k.attributes, '{}'), p.attributes) IS DISTINCT FROM k.attributes)"
    created = "SELECT customer_key FROM _new_customers" if result.customers_created else "SELECT NULL"
    counts = (
        s.fetch_one(
            "SELECT count(*) FILTER (WHERE p.customer_key IN (" + created + ")) AS created, "
            f"count(*) FILTER (WHERE p.customer_key NOT IN ({created}) AND ({changed})) AS updated, "
            f"count(*) FILTER (WHERE p.customer_key NOT IN ({created}) AND NOT ({changed})) AS unchanged "
            "FROM _profile p JOIN customers k USING (customer_key)"
        )
        or {}
    )
    s.execute(
        f"UPDATE customers SET {_assignments(trusted)}, updated_at = now() "
        "FROM _profile p WHERE customers.customer_key = p.customer_key"
    )
    result.imported = int(counts.get("created") or 0)
    result.updated = int(counts.get("updated") or 0)
    total = int(s.fetch_value(f"SELECT count(*) FROM {CHUNK}"))
    result.duplicates = total - result.imported - result.updated
    s.drop_temp("_profile", "_new_customers")
    return result


def _assignments(trusted: bool) -> str:
    """SET clauses: a trusted row's values win (and mark the profile trusted); an untrusted row's
    values win only on a profile no trusted writer has set, and only fill gaps otherwise."""
    merged = "json_merge_patch(coalesce(customers.attributes, '{}'), p.attributes)"
    if trusted:
        fields = [f"{f} = coalesce(p.{f}, customers.{f})" for f in (*_PROFILE, "email", "phone")]
        attributes = merged
        fields.append("trusted_at = now()")
    else:
        fields = [
            f"{f} = CASE WHEN customers.trusted_at IS NULL THEN coalesce(p.{f}, customers.{f}) "
            f"ELSE coalesce(customers.{f}, p.{f}) END"
            for f in _PROFILE
        ]
        fields += [f"{f} = coalesce(customers.{f}, p.{f})" for f in ("email", "phone")]
        kept = "json_merge_patch(p.attributes, coalesce(customers.attributes, '{}'))"  # existing keys win
        attributes = f"CASE WHEN customers.trusted_at IS NULL THEN {merged} ELSE {kept} END"
    fields.append(
        f"attributes = CASE WHEN p.attributes IS NULL THEN customers.attributes ELSE {attributes} END"
    )
    return ", ".join(fields)
