"""The one CSV writer (core/csv_export.py): formulas defused in text, numbers left numbers, and
what the csv module reads back is what was written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest

from cxlens.core.csv_export import csv_text, safe_cell
from cxlens.web.downloads import content_disposition


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),  # the explorer's old copy missed tab and CR
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        (None, ""),
        (-3.5, "-3.5"),  # a number is not a formula: quoting it would make the column text
        (-2, "-2"),
        (np.int64(-7), "-7"),  # numpy integers are not int
        (Decimal("-1.25"), "-1.25"),
        (True, "True"),
        (date(2026, 1, 2), "2026-01-02"),
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00+00:00"),
    ],
)
def test_a_cell_is_made_safe(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_the_text_reads_back_with_quotes_and_newlines_intact() -> None:
    text = csv_text(["name", "comment"], [["a,b", 'said "hi"\nthen left'], ["=x", -1]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "comment"],
        ["a,b", 'said "hi"\nthen left'],
        ["'=x", "-1"],
    ]


def test_a_download_name_with_quotes_and_accents_keeps_the_header_valid() -> None:
    header = content_disposition('NPS "été" 2026.csv')
    assert header.startswith('attachment; filename="NPS_t_2026.csv"')
    assert "filename*=UTF-8''NPS%20%22%C3%A9t%C3%A9%22%202026.csv" in header
    header.encode("latin-1")  # what an HTTP header must be
