"""Set-based, deterministic identity resolution (docs/data-model.md, "Identity resolution").

Input: a table of rows with normalised identity columns. Output: ``_row_customer(_row,
customer_key)``, new customers, new identities, recorded conflicts and anonymous-profile merges.

Rules, in order:
1. A row whose identities are already known belongs to the holder of its strongest known identity
   (user_id > external id > email > phone > social handle > anonymous id).
2. Rows with no known identity are grouped: rows that share a new identity are one customer. The
   grouping is label propagation, one set-based statement per round (rounds ≈ the longest chain of
   shared identities, usually 2–3). Rows carrying a user id keep it as their label, so two different
   user ids are never merged by a shared email or phone.
3. A new identity is given to the customer with the strongest label among the rows that carry it.
4. An identity already held by another customer is never moved: a conflict is recorded
   (``kept_holder``) — except when the holder is known only by anonymous ids: that profile is then
   merged into the row's customer (``merged_anonymous``), audited and reversible like any merge.
"""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.customers.merges import merge_pairs
from cxlens.customers.model import identity_rank
from cxlens.storage.dialects import quote_ident, quote_literal
from cxlens.storage.store import Session

_MAX_ROUNDS = 50


@dataclass(frozen=True)
class Resolution:
    customers_created: int
    conflicts: int
    merges: int


def resolve_customers(s: Session, *, rows: str, identities: tuple[str, ...], source: str) -> Resolution:
    """Resolve every row of ``rows`` (which has ``_row`` and the ``identities`` columns) to a
    customer, creating what is new. Leaves ``_row_customer`` behind for the caller."""
    _collect_identities(s, rows, identities)
    _label_rows(s)
    _propagate(s)
    created = _create_customers(s)
    _assign_identities(s, source)
    conflicts, merges = _record_conflicts(s, source)
    s.drop_temp("_ids", "_known", "_label", "_new_ids", "_id_label", "_assigned")
    return Resolution(created, conflicts, merges)


def _collect_identities(s: Session, rows: str, identities: tuple[str, ...]) -> None:
    parts = [
        f"SELECT _row, {quote_literal(name)} AS kind, CAST({quote_ident(name)} AS VARCHAR) AS value, "
        f"{0 if name == 'customer_id' else identity_rank(name)} AS rank "
        f"FROM {quote_ident(rows)} WHERE {quote_ident(name)} IS NOT NULL"
        for name in identities
    ]
    s.execute("CREATE OR REPLACE TEMP TABLE _ids AS " + " UNION ALL ".join(parts))
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _known AS "
        "SELECT i._row, i.kind, i.value, i.rank, x.customer_key AS holder_key, c.canonical_key "
        "FROM _ids i JOIN identities x ON x.kind = i.kind AND x.value = i.value "
        "JOIN customers c ON c.customer_key = x.customer_key "
        "UNION ALL "
        "SELECT i._row, i.kind, i.value, 0, c.customer_key, c.canonical_key "
        "FROM _ids i JOIN customers c ON i.kind = 'customer_id' AND c.customer_id = i.value"
    )
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _new_ids AS SELECT i._row, i.kind, i.value, i.rank FROM _ids i "
        "WHERE i.kind <> 'customer_id' AND NOT EXISTS "
        "(SELECT 1 FROM identities x WHERE x.kind = i.kind AND x.value = i.value)"
    )
    # Number each new identity by strength (rank, then kind and value): labels are then integers,
    # cheap to compare and aggregate, and a smaller number always means a stronger identity.
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _id_num AS SELECT kind, value, rank, "
        "row_number() OVER (ORDER BY rank, kind, value) AS num "
        "FROM (SELECT DISTINCT kind, value, rank FROM _new_ids)"
    )
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _new_ids AS SELECT n._row, n.kind, n.value, i.num "
        "FROM _new_ids n JOIN _id_num i USING (kind, value)"
    )


def _label_rows(s: Session) -> None:
    """Label each row: ``-holder_key`` when it is known (negative, so stronger than any new
    identity), else the number of its strongest new identity. Rows carrying a user id keep it."""
    user_ids = int(s.fetch_value("SELECT coalesce(max(num), 0) FROM _id_num WHERE rank = 1"))
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _label AS "
        "WITH k AS (SELECT _row, first(holder_key ORDER BY rank, holder_key) AS holder "
        "           FROM _known GROUP BY _row), "
        "     u AS (SELECT _row, min(num) AS own FROM _new_ids GROUP BY _row) "
        "SELECT coalesce(k._row, u._row) AS _row, coalesce(-k.holder, u.own) AS label, "
        f"  (k.holder IS NOT NULL OR u.own <= {user_ids}) AS fixed "
        "FROM u FULL OUTER JOIN k USING (_row)"
    )
    s.drop_temp("_id_num")


def _propagate(s: Session) -> None:
    """Rows that share a new identity take the strongest label among them, until stable."""
    if not s.fetch_value("SELECT count(*) FROM _label WHERE NOT fixed"):
        return  # every row is known or carries a user id: nothing can change
    for _ in range(_MAX_ROUNDS):
        s.execute(
            "CREATE OR REPLACE TEMP TABLE _id_label AS SELECT n.num, min(l.label) AS label "
            "FROM _new_ids n JOIN _label l USING (_row) GROUP BY n.num"
        )
        changed = s.fetch_value(
            "UPDATE _label SET label = m.label FROM ("
            "  SELECT n._row, min(il.label) AS label FROM _new_ids n "
            "  JOIN _id_label il USING (num) GROUP BY n._row) m "
            "WHERE _label._row = m._row AND NOT _label.fixed AND m.label < _label.label"
        )
        if not changed:
            return


def _create_customers(s: Session) -> int:
    base = s.fetch_value("SELECT coalesce(max(customer_key), 0) FROM customers")
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _new_customers AS "
        f"SELECT label, CAST({int(base)} + row_number() OVER (ORDER BY label) AS BIGINT) AS customer_key "
        "FROM (SELECT DISTINCT label FROM _label WHERE label > 0)"
    )
    s.execute(
        "INSERT INTO customers (customer_key, customer_id, canonical_key, created_at, updated_at) "
        f"SELECT customer_key, 'cus_' || {s.dialect.random_hex(24)}, customer_key, now(), now() "
        "FROM _new_customers"
    )
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _row_customer AS SELECT l._row, "
        "CASE WHEN l.label < 0 THEN -l.label ELSE n.customer_key END AS customer_key "
        "FROM _label l LEFT JOIN _new_customers n USING (label)"
    )
    return int(s.fetch_value("SELECT count(*) FROM _new_customers"))


def _assign_identities(s: Session, source: str) -> None:
    # Labels map to customers one-to-one, so the strongest label names the owner deterministically.
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _assigned AS "
        "SELECT kind, value, arg_min(rc.customer_key, l.label) AS customer_key "
        "FROM _new_ids n JOIN _label l USING (_row) JOIN _row_customer rc USING (_row) "
        "GROUP BY kind, value"
    )
    s.execute(
        "INSERT INTO identities (kind, value, customer_key, source, first_seen_at) "
        "SELECT kind, value, customer_key, ?, now() FROM _assigned",
        [source],
    )
    # A profile without a contact email/phone takes the first one it is known by.
    for kind in ("email", "phone"):
        s.execute(
            f"UPDATE customers SET {kind} = a.value FROM (SELECT customer_key, min(value) AS value "
            f"FROM _assigned WHERE kind = '{kind}' GROUP BY customer_key) a "
            f"WHERE customers.customer_key = a.customer_key AND customers.{kind} IS NULL"
        )


def _record_conflicts(s: Session, source: str) -> tuple[int, int]:
    """Identities a row claims for a different (canonical) customer than the one holding them."""
    s.execute(
        # Identities held before this chunk (_known) and those it just assigned (_assigned): the
        # same question, without probing the whole identities table again.
        "CREATE OR REPLACE TEMP TABLE _conflicts AS "
        "WITH row_canon AS (SELECT rc._row, c.canonical_key FROM _row_customer rc "
        "                   JOIN customers c USING (customer_key)), "
        "held AS (SELECT _row, kind, value, canonical_key AS held_by FROM _known WHERE kind <> 'customer_id' "
        "         UNION ALL SELECT n._row, n.kind, n.value, h.canonical_key FROM _new_ids n "
        "         JOIN _assigned a USING (kind, value) JOIN customers h ON h.customer_key = a.customer_key) "
        "SELECT DISTINCT held.kind, held.value, held.held_by, r.canonical_key AS claimed_by "
        "FROM held JOIN row_canon r USING (_row) WHERE held.held_by <> r.canonical_key"
    )
    # Profiles known only by anonymous ids are merged into the identified customer that claims them.
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _anon_merges AS "
        "SELECT held_by AS loser_key, min(claimed_by) AS winner_key FROM _conflicts c "
        "WHERE NOT EXISTS (SELECT 1 FROM identities x JOIN customers m ON m.customer_key = x.customer_key "
        "  WHERE m.canonical_key = c.held_by AND x.kind <> 'anonymous_id') "
        "AND EXISTS (SELECT 1 FROM identities x JOIN customers m ON m.customer_key = x.customer_key "
        "  WHERE m.canonical_key = c.claimed_by AND x.kind <> 'anonymous_id') "
        "GROUP BY held_by"
    )
    merges = merge_pairs(
        s, pairs="_anon_merges", reason="anonymous id linked to a known identity", actor=source
    )
    inserted = s.fetch_value(
        "INSERT INTO identity_conflicts (conflict_id, kind, value, held_by, claimed_by, source, resolution, "
        "recorded_at) SELECT "
        f"'idc_' || {s.dialect.random_hex(24)}, c.kind, c.value, c.held_by, c.claimed_by, ?, "
        "CASE WHEN a.loser_key IS NOT NULL THEN 'merged_anonymous' ELSE 'kept_holder' END, now() "
        "FROM _conflicts c LEFT JOIN _anon_merges a ON a.loser_key = c.held_by "
        "WHERE NOT EXISTS (SELECT 1 FROM identity_conflicts e WHERE e.kind = c.kind AND e.value = c.value "
        "  AND e.held_by = c.held_by AND e.claimed_by = c.claimed_by)",
        [source],
    )
    s.drop_temp("_conflicts", "_anon_merges")
    return int(inserted or 0), merges
