"""Survey trigger planning at scale: one pass of ``run_triggers`` over a day of deliveries, against
pandas doing the same planning on the same rows, in the same run.

A script, not a test (docs/benchmarks.md): no timing is asserted. The issue sets no target; the
question is whether the contact-frequency rule (a window check against every earlier contact) stays
set-based and fast when a busy shop's day arrives at once.

    .venv/bin/python benchmarks/bench_surveys.py                         # 1M deliveries, 200k customers
    .venv/bin/python benchmarks/bench_surveys.py --events 100000 --customers 20000
    .venv/bin/python benchmarks/bench_surveys.py --smoke                 # tiny: does it still run?

Method:

* Data, generated in DuckDB SQL into a fresh workspace: ``--customers`` canonical profiles with an
  email each (one in ten without), ``--events`` ``order_delivered`` interactions over the last day
  (customer ``1 + i·7919 mod customers``), and for one customer in four an invitation sent 10 days ago
  (a contact inside the 30-day window). One interaction trigger, ``--sample`` 0.5, created 3 days ago.
* cxlens: ``run_triggers`` in a unit of work that is rolled back after timing (each repeat plans the
  same candidates from scratch): candidates with deterministic hash sampling, one per customer per
  pass, contact-frequency window against earlier invitations and links, address lookup, INSERT.
* pandas peer: the candidate rows (interaction key, customer, time, and the sampling hash computed
  by DuckDB, so both keep the same rows) and the earlier contacts and addresses are loaded outside the
  timing; timed: the sample filter, first candidate per customer (sort + ``duplicated``), the latest
  earlier contact per customer (``groupby().max()``) merged in, the 30-day window test, the address
  merge, and the status per row. It does not write anything back.
* Checks: both must plan the same number of invitations and hold back the same number.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from _results import describe_machine, parse_args, write_result
from cxlens.automation.triggers import add_trigger, run_triggers
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.surveys.service import create_survey, template_document

CONTACT_DAYS = 30
SMOKE = {"customers": 200, "events": 1000, "repeat": 1}


def build(store: object, customers: int, events: int, sample: float, now: datetime) -> None:
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        create_survey(uow, name="ces", document=template_document("ces"))
        add_trigger(
            uow,
            name="ces-after-delivery",
            survey="ces",
            kind="interaction",
            event="order_delivered",
            sample_rate=sample,
            now=now - timedelta(days=3),
        )
    with store.session() as s:  # type: ignore[attr-defined]
        s.execute(
            "INSERT INTO customers (customer_key, customer_id, canonical_key, name, email, phone, segment, value, "
            "attributes, signed_up_at, first_seen_at, last_seen_at, churned_at, churn_reason, created_at, updated_at) "
            "SELECT i, 'cus_' || i, i, NULL, CASE WHEN i % 10 = 0 THEN NULL "
            "ELSE 'c' || i || '@example.com' END, NULL, NULL, NULL, NULL, NULL, NULL, now(), NULL, NULL, now(), "
            f"now() FROM range(1, {customers + 1}) t(i)"
        )
        s.execute(
            "INSERT INTO interactions (interaction_key, customer_key, occurred_at, received_at, channel, name, stage, "
            "source, properties, idempotency_key) "
            f"SELECT i, 1 + (i * 7919) % {customers}, CAST(? AS TIMESTAMPTZ) - INTERVAL 1 DAY "
            f"+ to_seconds(i % 86000), now(), 'web', 'order_delivered', NULL, 'bench', NULL, 'k' || i "
            f"FROM range(1, {events + 1}) t(i)",
            [now],
        )
        s.execute(
            "INSERT INTO survey_invitations (invitation_key, survey_key, customer_key, channel, touchpoint, trigger_key, "
            "subject, address, status, reason, send_after, remind_after_days, link_key, attempts, sent_at, reminded_at, "
            "created_at) SELECT row_number() OVER (), 1, i, 'email', NULL, NULL, 'manual-old', "
            "'c' || i || '@example.com', 'sent', NULL, CAST(? AS TIMESTAMPTZ) - INTERVAL 10 DAY, NULL, NULL, 1, "
            f"CAST(? AS TIMESTAMPTZ) - INTERVAL 10 DAY, NULL, now() FROM range(4, {customers + 1}, 4) t(i)",
            [now, now],
        )


def time_cxlens(store: object, now: datetime, repeat: int) -> tuple[list[float], tuple[int, int]]:
    times, counts = [], (0, 0)
    for _ in range(repeat + 1):  # the first run warms up
        with store.session() as s:  # type: ignore[attr-defined]
            s.execute("BEGIN TRANSACTION")
            started = time.perf_counter()
            admitted = run_triggers(s, contact_days=CONTACT_DAYS, now=now)  # type: ignore[arg-type]
            times.append(time.perf_counter() - started)
            s.execute("ROLLBACK")
        counts = (admitted.scheduled, admitted.suppressed)
    return times[1:], counts


def load_peer_inputs(store: object, now: datetime) -> dict[str, pd.DataFrame]:
    with store.session() as s:  # type: ignore[attr-defined]
        candidates = s.fetch_arrow(
            "SELECT i.interaction_key, i.customer_key, i.occurred_at AS send_after, "
            "(hash(t.trigger_key, 'int_' || i.interaction_key) % 10000) < round(t.sample_rate * 10000) AS sampled "
            "FROM interactions i, survey_triggers t WHERE i.name = t.event AND i.occurred_at >= t.created_at",
        ).to_pandas()
        contacts = s.fetch_arrow(
            "SELECT customer_key, send_after FROM survey_invitations WHERE status IN ('scheduled', 'sent')"
        ).to_pandas()
        addresses = s.fetch_arrow("SELECT customer_key, email FROM customers").to_pandas()
    return {"candidates": candidates, "contacts": contacts, "addresses": addresses}


def plan_with_pandas(data: dict[str, pd.DataFrame]) -> tuple[int, int]:
    kept = data["candidates"][data["candidates"]["sampled"]]
    ordered = kept.sort_values(["customer_key", "send_after", "interaction_key"])
    first = ~ordered["customer_key"].duplicated()
    last_contact = data["contacts"].groupby("customer_key")["send_after"].max().rename("last_contact")
    judged = ordered.join(last_contact, on="customer_key").merge(
        data["addresses"], on="customer_key", how="left"
    )
    window = pd.Timedelta(days=CONTACT_DAYS)
    recent = (judged["send_after"] - judged["last_contact"]).abs() < window
    crowded = ~first.to_numpy() | recent.fillna(False).to_numpy()
    scheduled = judged["email"].notna().to_numpy() & ~crowded
    return int(scheduled.sum()), int(len(judged) - scheduled.sum())


def time_pandas(data: dict[str, pd.DataFrame], repeat: int) -> tuple[list[float], tuple[int, int]]:
    times, counts = [], (0, 0)
    for _ in range(repeat + 1):
        started = time.perf_counter()
        counts = plan_with_pandas(data)
        times.append(time.perf_counter() - started)
    return times[1:], counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sample", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=7)
    args = parse_args(parser, SMOKE)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Settings(db=Path(folder) / "bench.duckdb"))
        try:
            build(store, args.customers, args.events, args.sample, now)
            ours, our_counts = time_cxlens(store, now, args.repeat)
            peer, peer_counts = time_pandas(load_peer_inputs(store, now), args.repeat)
        finally:
            store.close()
    result = {
        "command": " ".join(sys.argv),
        "machine": describe_machine(("cxlens", "duckdb", "pandas")),
        "events": args.events,
        "customers": args.customers,
        "sample": args.sample,
        "cxlens_ms": {"median": statistics.median(ours) * 1000, "max": max(ours) * 1000},
        "pandas_ms": {"median": statistics.median(peer) * 1000, "max": max(peer) * 1000},
        "ratio_pandas_over_cxlens": statistics.median(peer) / statistics.median(ours),
        "planned_held_back": {"cxlens": our_counts, "pandas": peer_counts},
        "counts_match": our_counts == peer_counts,
    }
    path = write_result(args, "surveys", result)
    print(json.dumps(result, indent=2))
    print(f"written to {path}")
    if not result["counts_match"]:
        print("MISMATCH: cxlens and pandas planned different invitations")


if __name__ == "__main__":
    main()
