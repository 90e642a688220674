"""Reads: answer a metric question on a session of the workspace."""

from __future__ import annotations

from cxlens.metrics.frames import base_frame
from cxlens.metrics.result import MetricResult
from cxlens.metrics.runner import compute_metric, metric_def
from cxlens.metrics.spec import MetricQuery
from cxlens.storage.store import Session


def run_metric(s: Session, query: MetricQuery) -> MetricResult:
    return compute_metric(base_frame(s, metric_def(query.metric).source), query)
