"""The composition root owns configuration: Settings is read from the environment in config.py
only, and bootstrap translates it into every slice's record."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxlens.bootstrap import trusted_proxies, web_settings
from cxlens.cli import _debug
from cxlens.config import Settings

SRC = Path(__file__).resolve().parents[2] / "src" / "cxlens"


def test_nothing_reads_the_environment_outside_config() -> None:
    readers = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "config.py" and readers.search(path.read_text())
    ]
    assert offenders == []


def test_debug_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CXLENS_DEBUG", raising=False)
    assert _debug() is False
    monkeypatch.setenv("CXLENS_DEBUG", "1")
    assert _debug() is True
    monkeypatch.setenv("CXLENS_DEBUG", "not a boolean")
    assert _debug() is False  # an invalid setting must not hide the error being reported


def test_web_limits_and_proxies_come_from_settings() -> None:
    web = web_settings(
        Settings(
            upload_max_bytes=4096, survey_answers_per_minute=7, trusted_proxies=" 10.0.0.1, 10.1.0.0/16 ,"
        )
    )
    assert (web.upload_max_bytes, web.survey_answers_per_minute) == (4096, 7)
    assert web.trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
    assert trusted_proxies(Settings()) == ()  # none by default
