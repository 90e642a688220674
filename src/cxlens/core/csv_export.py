"""The one CSV writer for everything cxlens exports: the CLI's ``--format csv``, the explorer's
download and a survey's responses.

A spreadsheet runs a cell that starts with ``= + - @``, a tab or a carriage return as a formula
(CSV injection; OWASP, ASVS 1.2.10), and the text in an export is often a customer's. Such text is
prefixed with a single quote, which spreadsheets show as plain text. Numbers are written as they
are: ``-3.5`` is a number to a spreadsheet, not a formula, and quoting it would turn a column of
differences into text.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of one cell: ISO dates, empty for None, text that could run as a formula defused."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, numbers.Number):  # also numpy's and Decimal, which are not int or float
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header row, then each row's cells made safe (RFC 4180 quoting by the csv module)."""
    writer = csv.writer(out)
    writer.writerow([safe_cell(column) for column in columns])
    writer.writerows([safe_cell(value) for value in row] for row in rows)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    write_csv(out, columns, rows)
    return out.getvalue()
