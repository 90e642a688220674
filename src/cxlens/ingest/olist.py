"""Olist (Brazilian e-commerce marketplace) -> customers, interactions and responses.

The person is ``customer_unique_id`` (identity column ``external:olist``); Olist's own
``customer_id`` is issued once per order, so it stays in the interaction properties. Each order
becomes up to five interactions (placed, payment approved, handed to carrier, delivered,
delivery estimate); a step whose timestamp is empty did not happen and yields no interaction.
Reviews become CSAT responses.

Olist timestamps are naive local times in Brazil. They are read as ``America/Sao_Paulo`` so the
pipeline receives instants. Brazil still had daylight saving time in 2016-2018: a local time
that does not exist (00:00 on the spring-forward day, a common delivery estimate) moves to the
first valid instant, and a local time that happens twice (the autumn fall-back hour) takes the
earlier instant. A timestamp that cannot be parsed counts as empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cxlens.errors import ImportFailed
from cxlens.ingest.arrow_columns import number_or_text

SOURCE = "olist"
IDENTITY = "external:olist"
TIME_ZONE = "America/Sao_Paulo"

_FILES: dict[str, tuple[str, ...]] = {
    "orders": (
        "order_id",
        "customer_id",
        "order_status",
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
    ),
    "customers": (
        "customer_id",
        "customer_unique_id",
        "customer_zip_code_prefix",
        "customer_city",
        "customer_state",
    ),
    "order_items": ("order_id", "order_item_id", "price"),
    "order_payments": ("order_id", "payment_type", "payment_value"),
    "order_reviews": (
        "review_id",
        "order_id",
        "review_score",
        "review_comment_title",
        "review_comment_message",
        "review_creation_date",
        "review_answer_timestamp",
    ),
}
_OPTIONAL = ("order_items", "order_payments", "order_reviews")


class _Step(NamedTuple):
    column: str
    name: str
    stage: str
    channel: str


# In the order the steps happen; the rank breaks ties between steps recorded at the same second.
_STEPS = (
    _Step("order_purchase_timestamp", "order_placed", "purchase", "web"),
    _Step("order_approved_at", "payment_approved", "purchase", "web"),
    _Step("order_delivered_carrier_date", "handed_to_carrier", "fulfilment", "other"),
    _Step("order_delivered_customer_date", "order_delivered", "fulfilment", "other"),
    _Step("order_estimated_delivery_date", "delivery_estimated", "fulfilment", "other"),
)
_LOCAL = pa.timestamp("us", tz=TIME_ZONE)
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def read_olist(directory: Path) -> dict[str, pa.Table]:
    """Read the Olist ``*_dataset.csv`` (or ``.csv.gz``) files of ``directory``.

    Orders and customers are required; items, payments and reviews are optional.
    """
    orders = _parse_times(_read(directory, "orders"))
    people = _read(directory, "customers")
    orders = orders.join(
        people.select(["customer_id", "customer_unique_id"]).rename_columns(["customer_id", IDENTITY]),
        "customer_id",
        join_type="left outer",
    )
    orders = _with_properties(orders, _read(directory, "order_items"), _read(directory, "order_payments"))
    return {
        "customers": _customers(people, orders),
        "interactions": _interactions(orders),
        "responses": _responses(_read(directory, "order_reviews"), orders),
    }


def _read(directory: Path, name: str) -> pa.Table:
    columns = _FILES[name]
    found = sorted(directory.glob(f"*{name}_dataset.csv")) + sorted(directory.glob(f"*{name}_dataset.csv.gz"))
    if not found:
        if name in _OPTIONAL:
            return pa.table({column: pa.array([], pa.string()) for column in columns})
        raise ImportFailed(f"No Olist {name} file (*{name}_dataset.csv[.gz]) in {directory}")
    table = _read_text_csv(found[0])
    missing = [column for column in columns if column not in table.column_names]
    if missing:
        raise ImportFailed(f"{found[0].name} lacks the columns {', '.join(missing)}")
    return table


def _read_text_csv(path: Path) -> pa.Table:
    # Every known column as text: ZIP prefixes keep their leading zeros, ids stay ids, and only an
    # empty field counts as missing (a comment reading "NA" is a comment).
    known = {column for columns in _FILES.values() for column in columns}
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(known, pa.string()), null_values=[""], strings_can_be_null=True
    )
    try:
        return pcsv.read_csv(
            path, parse_options=pcsv.ParseOptions(newlines_in_values=True), convert_options=convert
        )
    except (OSError, pa.ArrowInvalid) as error:
        raise ImportFailed(f"Cannot read {path.name}: {error}") from error


def _local_time(column: pa.ChunkedArray) -> pa.ChunkedArray:
    naive = pc.strptime(column, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    local = pc.assume_timezone(naive, TIME_ZONE, ambiguous="earliest", nonexistent="latest")
    # Same instants, one zone for every adapter's output.
    return pc.cast(local, pa.timestamp("us", tz="UTC"))


def _parse_times(orders: pa.Table) -> pa.Table:
    for column in (step.column for step in _STEPS):
        index = orders.column_names.index(column)
        orders = orders.set_column(index, column, _local_time(orders[column]))
    return orders


def _to_float(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Numbers that only feed properties: anything unparseable becomes null."""
    text = pc.utf8_trim_whitespace(column)
    return pc.cast(pc.if_else(pc.match_substring_regex(text, _NUMBER), text, None), pa.float64())


def _json_str(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Property values are ids and codes; control characters are blanked rather than \u-escaped.
    text = pc.replace_substring(column, "\\", "\\\\")
    text = pc.replace_substring(text, '"', '\\"')
    text = pc.replace_substring_regex(text, "[\\x00-\\x1f]", " ")
    return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")


def _json_num(column: pa.ChunkedArray) -> pa.ChunkedArray:
    finite = pc.if_else(pc.is_finite(column), column, None)
    return pc.fill_null(pc.cast(finite, pa.string()), "null")


def _json_object(fields: dict[str, pa.ChunkedArray]) -> pa.ChunkedArray:
    """One JSON object text per row from columns already rendered as JSON values."""
    members = [pc.binary_join_element_wise(f'"{key}":', value, "") for key, value in fields.items()]
    return pc.binary_join_element_wise("{", pc.binary_join_element_wise(*members, ","), "}", "")


def _order_totals(items: pa.Table, payments: pa.Table) -> tuple[pa.Table, pa.Table]:
    item_rows = pa.table({"order_id": items["order_id"], "price": _to_float(items["price"])})
    item_totals = item_rows.group_by("order_id").aggregate(
        [("price", "count", pc.CountOptions(mode="all")), ("price", "sum")]
    )
    # Sorted first so each order's distinct payment types come out alphabetically.
    pay_rows = pa.table(
        {
            "order_id": payments["order_id"],
            "type": _json_str(payments["payment_type"]),
            "value": _to_float(payments["payment_value"]),
        }
    ).sort_by([("order_id", "ascending"), ("type", "ascending")])
    pay_totals = pay_rows.group_by("order_id", use_threads=False).aggregate(
        [("type", "distinct"), ("value", "sum")]
    )
    # Rendered before any join: Arrow joins cannot carry list columns.
    types = pc.binary_join_element_wise("[", pc.binary_join(pay_totals["type_distinct"], ","), "]", "")
    pay_totals = pay_totals.drop_columns(["type_distinct"]).append_column("payment_types", types)
    return item_totals, pay_totals


def _with_properties(orders: pa.Table, items: pa.Table, payments: pa.Table) -> pa.Table:
    item_totals, pay_totals = _order_totals(items, payments)
    facts = orders.join(item_totals, "order_id", join_type="left outer")
    facts = facts.join(pay_totals, "order_id", join_type="left outer")
    # Compared as local calendar dates: the estimate is a day (stored as local midnight).
    delivered, promised = (
        pc.cast(pc.local_timestamp(pc.cast(facts[column], _LOCAL)), pa.date32())
        for column in ("order_delivered_customer_date", "order_estimated_delivery_date")
    )
    late = pc.if_else(pc.greater(delivered, promised), "true", "false")
    properties = _json_object(
        {
            "order_id": _json_str(facts["order_id"]),
            "customer_id": _json_str(facts["customer_id"]),
            "order_status": _json_str(facts["order_status"]),
            "item_count": pc.fill_null(pc.cast(facts["price_count"], pa.string()), "0"),
            "total_price": _json_num(pc.round(facts["price_sum"], 2)),
            "payment_types": pc.fill_null(facts["payment_types"], "[]"),
            "payment_value": _json_num(pc.round(facts["value_sum"], 2)),
            "late": pc.fill_null(late, "null"),
        }
    )
    return facts.append_column("properties", properties)


def _interactions(orders: pa.Table) -> pa.Table:
    steps = [_step(orders, rank, step) for rank, step in enumerate(_STEPS)]
    table = pa.concat_tables(steps).sort_by(
        [(IDENTITY, "ascending"), ("occurred_at", "ascending"), ("rank", "ascending")]
    )
    return table.drop_columns(["rank"])


def _step(orders: pa.Table, rank: int, step: _Step) -> pa.Table:
    rows = orders.filter(pc.is_valid(orders[step.column]))
    size = rows.num_rows
    return pa.table(
        {
            IDENTITY: rows[IDENTITY],
            "occurred_at": rows[step.column],
            "channel": pa.repeat(step.channel, size),
            "name": pa.repeat(step.name, size),
            "stage": pa.repeat(step.stage, size),
            "properties": rows["properties"],
            "source": pa.repeat(SOURCE, size),
            "idempotency_key": pc.binary_join_element_wise(rows["order_id"], step.name, ":"),
            "rank": pa.repeat(rank, size),
        }
    )


def _comment(title: pa.ChunkedArray, message: pa.ChunkedArray) -> pa.ChunkedArray:
    title, message = (
        pc.utf8_trim_whitespace(pc.replace_substring(part, "\r\n", "\n")) for part in (title, message)
    )
    title, message = (pc.if_else(pc.equal(part, ""), None, part) for part in (title, message))
    # Not binary_join_element_wise(null_handling="skip"): pyarrow 26 drops all-null rows there.
    both = pc.binary_join_element_wise(title, message, "\n")
    return pc.coalesce(both, title, message)


def _responses(reviews: pa.Table, orders: pa.Table) -> pa.Table:
    rows = reviews.join(orders.select(["order_id", IDENTITY]), "order_id", join_type="left outer")
    answered = pc.coalesce(
        _local_time(rows["review_answer_timestamp"]), _local_time(rows["review_creation_date"])
    )
    size = rows.num_rows
    table = pa.table(
        {
            IDENTITY: rows[IDENTITY],
            "metric": pa.repeat("csat", size),
            "score": number_or_text(rows["review_score"]),
            "comment": _comment(rows["review_comment_title"], rows["review_comment_message"]),
            "touchpoint": pa.repeat("order_review", size),
            "channel": pa.repeat("email", size),
            "survey": pa.repeat("olist_review", size),
            "answered_at": answered,
            "properties": _json_object(
                {"order_id": _json_str(rows["order_id"]), "review_id": _json_str(rows["review_id"])}
            ),
            "source": pa.repeat(SOURCE, size),
            # review_id alone repeats across orders in the Olist data.
            "idempotency_key": pc.binary_join_element_wise(rows["review_id"], rows["order_id"], ":"),
        }
    )
    return table.sort_by([("answered_at", "ascending"), ("idempotency_key", "ascending")])


def _customers(people: pa.Table, orders: pa.Table) -> pa.Table:
    dated = people.join(
        orders.select(["customer_id", "order_purchase_timestamp"]), "customer_id", join_type="left outer"
    ).sort_by([("customer_unique_id", "ascending"), ("order_purchase_timestamp", "descending")])
    # The most recent order's address wins when a person moved between orders (undated last).
    latest = dated.group_by("customer_unique_id", use_threads=False).aggregate(
        [("customer_city", "first"), ("customer_state", "first"), ("customer_zip_code_prefix", "first")]
    )
    attributes = _json_object(
        {
            "city": _json_str(latest["customer_city_first"]),
            "state": _json_str(latest["customer_state_first"]),
            "zip_code_prefix": _json_str(latest["customer_zip_code_prefix_first"]),
        }
    )
    return pa.table(
        {
            IDENTITY: latest["customer_unique_id"],
            "attributes": attributes,
            "source": pa.repeat(SOURCE, latest.num_rows),
        }
    ).sort_by(IDENTITY)
