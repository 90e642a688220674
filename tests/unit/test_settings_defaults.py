"""A slice's settings record may keep defaults for library use (``run_metric`` in a notebook), but
they must be the defaults of ``config.Settings`` as bootstrap translates them: one value, not two
that drift apart."""

from __future__ import annotations

import os

import pytest

from cxlens.bootstrap import live_config, metrics_settings, wire_limits
from cxlens.config import Settings
from cxlens.ingest.live import LiveConfig
from cxlens.ingest.segment_wire import WireLimits
from cxlens.metrics.spec import MetricsSettings


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("CXLENS_")]:
        monkeypatch.delenv(name)
    return Settings()


def test_metric_settings_default_to_what_settings_say(defaults: Settings) -> None:
    assert MetricsSettings() == metrics_settings(defaults)


def test_wire_limits_default_to_what_settings_say(defaults: Settings) -> None:
    assert WireLimits() == wire_limits(defaults)


def test_live_config_defaults_to_what_settings_say(defaults: Settings) -> None:
    assert LiveConfig() == live_config(defaults)
