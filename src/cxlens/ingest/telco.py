"""IBM Telco Customer Churn -> customers.

One row per customer (identity column ``external:telco`` = ``customerID``). ``Contract`` is the
segment and ``TotalCharges`` the value; its blank cells (a single space, for customers in their
first month) become null. Every other column except ``Churn`` is passed on under its own name,
so the import pipeline stores it in ``attributes``.

The file is a snapshot without dates. Both dates are therefore derived from one snapshot
instant (``snapshot``, by default ``DEFAULT_SNAPSHOT``; IBM does not publish the real one):
``churned_at`` is the snapshot for ``Churn = Yes`` ("left within the last month"), and
``signed_up_at`` is the snapshot minus ``tenure`` calendar months (approximate: tenure is
rounded to whole months; the day is clamped to the target month's length). ``churn_reason`` is
not in this file and stays null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cxlens.errors import ImportFailed
from cxlens.ingest.arrow_columns import number_or_text

SOURCE = "telco"
IDENTITY = "external:telco"
DEFAULT_SNAPSHOT = datetime(2018, 1, 31, tzinfo=UTC)
_REQUIRED = ("customerID", "tenure", "Contract", "TotalCharges", "Churn")
_MAPPED = ("customerID", "Contract", "TotalCharges", "Churn")
_UTC = pa.timestamp("us", tz="UTC")
_DAY_US = 86_400_000_000


def read_telco(path: Path, *, snapshot: datetime = DEFAULT_SNAPSHOT) -> dict[str, pa.Table]:
    """Read ``Telco-Customer-Churn.csv`` (or ``.csv.gz``); ``snapshot`` must be timezone-aware."""
    if snapshot.tzinfo is None:
        raise ValueError("snapshot must be timezone-aware")
    raw = _read(path)
    size = raw.num_rows
    churned = pc.equal(pc.utf8_trim_whitespace(raw["Churn"]), "Yes")
    moment = pa.scalar(snapshot, _UTC)
    customers = pa.table(
        {
            IDENTITY: raw["customerID"],
            "segment": raw["Contract"],
            "value": number_or_text(raw["TotalCharges"]),
            "signed_up_at": _months_before(snapshot, _whole_number(raw["tenure"])),
            "churned_at": pc.if_else(churned, moment, pa.scalar(None, _UTC)),
            "churn_reason": pa.nulls(size, pa.string()),
            "source": pa.repeat(SOURCE, size),
        }
    )
    for name in raw.column_names:
        if name not in _MAPPED:
            customers = customers.append_column(name, raw[name])
    return {"customers": customers}


def _read(path: Path) -> pa.Table:
    # Ids and the charge column stay text: TotalCharges holds " " for new customers and a typed
    # read would fail on it. Other columns get Arrow's type inference (tenure, charges as numbers;
    # a column with a stray word stays text, and tenure is then parsed where it can be).
    convert = pcsv.ConvertOptions(
        column_types={"customerID": pa.string(), "TotalCharges": pa.string()},
        null_values=[""],
        strings_can_be_null=True,
    )
    try:
        table = pcsv.read_csv(path, convert_options=convert)
    except (OSError, pa.ArrowInvalid) as error:
        raise ImportFailed(f"Cannot read {path.name}: {error}") from error
    missing = [column for column in _REQUIRED if column not in table.column_names]
    if missing:
        raise ImportFailed(f"{path.name} is not the Telco churn file: it lacks {', '.join(missing)}")
    return table


def _whole_number(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Tenure in months; anything but digits is unknown (null)."""
    if pa.types.is_integer(column.type):
        return pc.cast(column, pa.int64())
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    return pc.cast(pc.if_else(pc.match_substring_regex(text, r"^[0-9]{1,4}$"), text, None), pa.int64())


def _months_before(snapshot: datetime, months: pa.ChunkedArray) -> pa.ChunkedArray:
    """``snapshot`` minus ``months`` calendar months, same time of day, day clamped to the month."""
    start = snapshot.astimezone(UTC)
    index = pc.subtract(start.year * 12 + start.month - 1, months)  # months since 1 January 0000
    first = _first_of_month(index)
    length = pc.days_between(first, _first_of_month(pc.add(index, 1)))
    days = pc.subtract(pc.min_element_wise(length, start.day), 1)
    time_of_day = start - start.replace(hour=0, minute=0, second=0, microsecond=0)
    shifted = pc.add(first, pc.cast(pc.multiply(days, _DAY_US), pa.duration("us")))
    return pc.add(shifted, pa.scalar(time_of_day, pa.duration("us")))


def _first_of_month(index: pa.ChunkedArray) -> pa.ChunkedArray:
    year = pc.divide(index, 12)  # integer division: the index is never negative here
    month = pc.add(pc.subtract(index, pc.multiply(year, 12)), 1)
    text = pc.binary_join_element_wise(
        pc.cast(year, pa.string()), pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0"), "01", "-"
    )
    return pc.cast(pc.strptime(text, format="%Y-%m-%d", unit="us"), _UTC)
