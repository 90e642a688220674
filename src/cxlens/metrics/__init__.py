"""The metrics slice.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.metrics.library import describe_metrics
from cxlens.metrics.queries import (
    attribute_dimensions,
    latest_activity,
    run_comparison,
    run_consistency,
    run_metric,
)
from cxlens.metrics.result import COLUMNS, MetricResult
from cxlens.metrics.schedule import Schedule
from cxlens.metrics.spec import GRAINS, MetricQuery, MetricsSettings, make_query, parse_filters

__all__ = [
    "COLUMNS",
    "GRAINS",
    "MetricQuery",
    "MetricResult",
    "MetricsSettings",
    "Schedule",
    "attribute_dimensions",
    "describe_metrics",
    "latest_activity",
    "make_query",
    "parse_filters",
    "run_comparison",
    "run_consistency",
    "run_metric",
]
