"""The seeded demo world: determinism, import shapes, and the planted effects of docs/demo.md.

Most tests read a small world (2,000 customers, 6 months). The default world (20,000 customers,
12 months, about 3 s) is built once for the size check and for the effects that need its sample
size to be measured with confidence: chat CSAT (overall and per month), the defect spike, and
churn of detractors with unresolved cases."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from numpy.typing import NDArray

from cxlens.demo.world import DemoWorld, generate_world
from cxlens.errors import InvalidInput
from cxlens.ingest.base import (
    CASE_EVENT_KINDS,
    CASE_STATUSES,
    CHANNELS,
    DIRECTIONS,
    ENTITIES,
    IDENTITY_FIELDS,
    METRIC_SCALES,
    PRIORITIES,
    STAGES,
)


@pytest.fixture(scope="module")
def small() -> DemoWorld:
    return generate_world(customers=2_000, months=6, seed=7)


@pytest.fixture(scope="module")
def full() -> DemoWorld:
    return generate_world()


def strings(table: pa.Table, column: str) -> NDArray[np.object_]:
    return np.asarray(table.column(column).to_pylist(), dtype=object)


def micros(table: pa.Table, column: str) -> NDArray[np.int64]:
    """Timestamps as µs since the epoch; nulls become -1."""
    return np.asarray(pc.fill_null(table.column(column).cast(pa.int64()), -1).to_numpy())


def us(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def values(table: pa.Table, column: str) -> set[str]:
    return set(pc.unique(table.column(column).drop_null()).to_pylist())


def second_handoff_at(world: DemoWorld) -> dict[str, int]:
    """Per customer, when one of their cases was handed off for the second time (earliest)."""
    events = world.case_events
    handoffs = events.filter(pc.equal(events["kind"], "handoff")).sort_by(
        [("case_external_id", "ascending"), ("occurred_at", "ascending")]
    )
    case = strings(handoffs, "case_external_id")
    first_of_case = np.searchsorted(case, case, side="left")
    rank = np.arange(len(case)) - first_of_case
    second = handoffs.filter(pa.array(rank == 1))
    owner = dict(zip(strings(world.cases, "external_id"), strings(world.cases, "user_id"), strict=True))
    earliest: dict[str, int] = {}
    for case_id, at in zip(strings(second, "case_external_id"), micros(second, "occurred_at"), strict=True):
        user = owner[case_id]
        earliest[user] = min(at, earliest.get(user, at))
    return earliest


# -- determinism and arguments ------------------------------------------------------------------


def test_the_same_seed_gives_identical_tables(small: DemoWorld) -> None:
    again = generate_world(customers=2_000, months=6, seed=7)
    for name, table in small.tables().items():
        assert table.equals(again.tables()[name]), name


def test_another_seed_gives_another_world(small: DemoWorld) -> None:
    other = generate_world(customers=2_000, months=6, seed=8)
    assert not other.interactions.equals(small.interactions)
    assert not other.customers.column("email").equals(small.customers.column("email"))


def test_the_window_ends_at_a_fixed_date_by_default(small: DemoWorld) -> None:
    assert small.end == datetime(2026, 11, 1, tzinfo=UTC)
    assert small.start == datetime(2026, 5, 1, tzinfo=UTC)
    later = generate_world(customers=50, months=2, end=datetime(2025, 3, 15, 12, tzinfo=UTC))
    assert (later.start, later.end) == (
        datetime(2025, 1, 15, 12, tzinfo=UTC),
        datetime(2025, 3, 15, 12, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "arguments",
    [{"customers": 0}, {"months": 0}, {"months": 61}, {"end": datetime(2026, 1, 1)}],  # noqa: DTZ001
)
def test_bad_arguments_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        generate_world(**arguments)  # type: ignore[arg-type]


# -- shapes and values --------------------------------------------------------------------------


def test_every_column_is_a_canonical_field_an_identity_or_an_attribute(small: DemoWorld) -> None:
    for name, table in small.tables().items():
        spec = ENTITIES[name]
        extra = set(table.column_names) - set(spec.field_names) - set(IDENTITY_FIELDS) - {"case_external_id"}
        assert extra <= ({"plan", "country"} if name == "customers" else set()), (name, extra)
        required = {f.name for f in spec.fields if f.required}
        assert required <= set(table.column_names), name
        for column in required:
            assert table.column(column).null_count == 0, (name, column)
    assert {"user_id", "email", "phone"} <= set(small.customers.column_names)
    for name in ("interactions", "responses", "cases"):
        assert "user_id" in small.tables()[name].column_names


def test_enumerated_values_come_from_the_canonical_sets(small: DemoWorld) -> None:
    assert values(small.interactions, "channel") <= set(CHANNELS)
    assert values(small.interactions, "stage") <= set(STAGES)
    assert values(small.responses, "channel") <= set(CHANNELS)
    assert values(small.responses, "metric") == {"nps", "csat", "ces"}
    assert values(small.cases, "channel") <= set(CHANNELS)
    assert values(small.cases, "status") <= set(CASE_STATUSES)
    assert values(small.cases, "priority") == set(PRIORITIES)
    assert values(small.cases, "team") == {"Tier 1", "Billing", "Technical", "Logistics"}
    assert values(small.case_events, "kind") == set(CASE_EVENT_KINDS)
    assert values(small.case_events, "direction") == set(DIRECTIONS)
    assert values(small.customers, "segment") == {"consumer", "smb", "enterprise"}
    for table in small.tables().values():
        assert values(table, "source") == {"demo"}


def test_scores_stay_on_their_scales(small: DemoWorld) -> None:
    responses = small.responses
    for metric, (low, high) in METRIC_SCALES.items():
        scores = responses.filter(pc.equal(responses["metric"], metric))["score"]
        assert len(scores) > 100, metric
        assert low <= pc.min(scores).as_py() <= low + 1 and pc.max(scores).as_py() == high, metric
        assert len(pc.unique(scores)) >= 5, metric
    satisfaction = small.cases["satisfaction"].drop_null()
    assert len(satisfaction) > 50
    assert set(satisfaction.to_pylist()) <= {1, 2, 3, 4, 5}


def test_timestamps_are_utc_and_inside_the_window(small: DemoWorld) -> None:
    start, end = us(small.start), us(small.end)
    columns = {
        "interactions": ["occurred_at"],
        "responses": ["answered_at"],
        "cases": ["created_at", "first_response_at", "solved_at", "closed_at"],
        "case_events": ["occurred_at"],
        "customers": ["churned_at"],
    }
    for name, names in columns.items():
        table = small.tables()[name]
        for column in names:
            assert table.schema.field(column).type == pa.timestamp("us", tz="UTC"), (name, column)
            times = micros(table, column)
            times = times[times >= 0]
            assert len(times) > 0 and times.min() >= start and times.max() < end, (name, column)
    signed_up = micros(small.customers, "signed_up_at")
    assert signed_up.max() < end
    assert (signed_up < start).mean() == pytest.approx(0.35, abs=0.05)  # the installed base


def test_keys_and_identities_are_unique(small: DemoWorld) -> None:
    for name in ("interactions", "responses", "case_events"):
        keys = small.tables()[name]["idempotency_key"]
        assert keys.null_count == 0 and len(pc.unique(keys)) == len(keys), name
    for column in ("user_id", "email", "phone"):
        assert len(pc.unique(small.customers[column])) == small.customers.num_rows, column
    assert len(pc.unique(small.cases["external_id"])) == small.cases.num_rows


def test_phone_numbers_are_valid_e164_for_the_customers_country(small: DemoWorld) -> None:
    phones, countries = strings(small.customers, "phone"), strings(small.customers, "country")
    assert all(re.fullmatch(r"\+[1-9][0-9]{6,14}", phone) for phone in phones)
    for phone, country in list(zip(phones, countries, strict=True))[:300]:
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.region_code_for_number(number) == country, phone


def test_properties_are_json_objects(small: DemoWorld) -> None:
    for name in ("interactions", "responses"):
        texts = small.tables()[name]["properties"].drop_null().to_pylist()
        assert len(texts) > 100
        assert all(isinstance(json.loads(text), dict) for text in texts), name


def test_rows_refer_to_customers_and_cases_that_exist(small: DemoWorld) -> None:
    users = strings(small.customers, "user_id")
    for name in ("interactions", "responses", "cases"):
        used = pc.unique(small.tables()[name]["user_id"].drop_null()).to_numpy(zero_copy_only=False)
        assert np.isin(used, users).all(), name
    cases = strings(small.cases, "external_id")
    assert np.isin(list(values(small.case_events, "case_external_id")), cases).all()
    assert np.isin(list(values(small.responses, "case_external_id")), cases).all()


def test_a_few_customers_browse_anonymously_before_signing_up(small: DemoWorld) -> None:
    rows = small.interactions.filter(pc.is_valid(small.interactions["anonymous_id"]))
    anonymous_only = rows.filter(pc.is_null(rows["user_id"]))
    linked = rows.filter(pc.is_valid(rows["user_id"]))
    assert anonymous_only.num_rows > 50 and linked.num_rows > 50
    assert values(anonymous_only, "anonymous_id") <= values(linked, "anonymous_id")
    pairs = linked.group_by("anonymous_id").aggregate([("user_id", "count_distinct")])
    assert pc.max(pairs["user_id_count_distinct"]).as_py() == 1  # one customer per cookie
    assert 20 <= len(values(linked, "anonymous_id")) <= 100


# -- cases and their events agree --------------------------------------------------------------


def test_case_status_is_the_last_status_change(small: DemoWorld) -> None:
    events = small.case_events
    changes = events.filter(pc.equal(events["kind"], "status_change"))
    last = dict(zip(strings(changes, "case_external_id"), strings(changes, "to_value"), strict=True))
    for case_id, status in zip(
        strings(small.cases, "external_id"), strings(small.cases, "status"), strict=True
    ):
        assert last.get(case_id, "new") == status, case_id
    assert values(small.cases, "status") >= {"closed", "solved", "open", "pending", "on_hold"}


def test_first_response_is_the_first_outbound_message(small: DemoWorld) -> None:
    events = small.case_events
    out = events.filter(pc.equal(events["direction"], "out"))
    first = out.group_by("case_external_id").aggregate([("occurred_at", "min")])
    expected = dict(zip(strings(first, "case_external_id"), micros(first, "occurred_at_min"), strict=True))
    answered = small.cases.filter(pc.is_valid(small.cases["first_response_at"]))
    for case_id, at in zip(
        strings(answered, "external_id"), micros(answered, "first_response_at"), strict=True
    ):
        assert expected[case_id] == at


def test_handoffs_move_cases_between_teams(small: DemoWorld) -> None:
    events = small.case_events
    handoffs = events.filter(pc.equal(events["kind"], "handoff"))
    per_case = handoffs.group_by("case_external_id").aggregate([("kind", "count")])
    counts = np.bincount(per_case["kind_count"].to_numpy(), minlength=4)
    assert counts[1] > counts[2] > counts[3] > 0 and len(counts) == 4
    assert not np.any(strings(handoffs, "from_value") == strings(handoffs, "to_value"))
    team = dict(zip(strings(handoffs, "case_external_id"), strings(handoffs, "to_value"), strict=True))
    for case_id, current in zip(
        strings(small.cases, "external_id"), strings(small.cases, "team"), strict=True
    ):
        if case_id in team:
            assert team[case_id] == current


def test_satisfaction_is_the_csat_answer_about_the_case(small: DemoWorld) -> None:
    r = small.responses
    csat = r.filter(pc.and_(pc.equal(r["metric"], "csat"), pc.is_valid(r["case_external_id"])))
    answers = dict(zip(strings(csat, "case_external_id"), csat["score"].to_pylist(), strict=True))
    rated = small.cases.filter(pc.is_valid(small.cases["satisfaction"]))
    assert dict(zip(strings(rated, "external_id"), rated["satisfaction"].to_pylist(), strict=True)) == answers


def test_resolution_times_have_a_long_tail(small: DemoWorld) -> None:
    solved = small.cases.filter(pc.is_valid(small.cases["solved_at"]))
    hours = (micros(solved, "solved_at") - micros(solved, "created_at")) / 3.6e9
    median, p99 = np.quantile(hours, [0.5, 0.99])
    assert 3 < median < 48
    assert p99 > 15 * median


def test_churned_customers_have_a_reason_and_go_quiet(small: DemoWorld) -> None:
    customers = small.customers
    churned = pc.is_valid(customers["churned_at"])
    assert pc.all(pc.equal(churned, pc.is_valid(customers["churn_reason"]))).as_py()
    churned_at = dict(zip(strings(customers, "user_id"), micros(customers, "churned_at"), strict=True))
    it = small.interactions.filter(pc.is_valid(small.interactions["user_id"]))
    user, at = strings(it, "user_id"), micros(it, "occurred_at")
    limit = np.array([churned_at[u] for u in user])
    left = limit >= 0
    assert np.all(at[left] <= limit[left])
    cancelled = it.filter(pc.equal(it["name"], "subscription_cancelled"))
    assert cancelled.num_rows == pc.sum(churned.cast(pa.int64())).as_py()


def test_journeys_progress_from_awareness_to_advocacy(small: DemoWorld) -> None:
    """For customers acquired in the window, each stage (mostly) first appears after the one
    before it."""
    it = small.interactions.filter(pc.is_valid(small.interactions["user_id"]))
    new = small.customers.filter(pc.greater_equal(small.customers["signed_up_at"], pa.scalar(small.start)))
    it = it.filter(pc.is_in(it["user_id"], value_set=new["user_id"]))
    user = pc.index_in(it["user_id"], value_set=new["user_id"]).to_numpy()
    stage = pc.index_in(it["stage"], value_set=pa.array(STAGES)).to_numpy()
    first = np.full((new.num_rows, len(STAGES)), np.iinfo(np.int64).max)
    np.minimum.at(first, (user, stage), micros(it, "occurred_at"))
    order = ["awareness", "consideration", "purchase", "fulfilment", "onboarding", "usage", "advocacy"]
    for earlier, later in pairwise(order):
        a, b = first[:, STAGES.index(earlier)], first[:, STAGES.index(later)]
        both = (a < np.iinfo(np.int64).max) & (b < np.iinfo(np.int64).max)
        assert both.sum() > 100, (earlier, later)
        assert (a[both] <= b[both]).mean() > 0.8, (earlier, later)


def test_contact_follows_office_hours_and_weekdays(small: DemoWorld) -> None:
    phone = small.interactions.filter(pc.equal(small.interactions["channel"], "phone"))
    at = micros(phone, "occurred_at")
    weekday = (at // 86_400_000_000 + 3) % 7
    hour = (at // 3_600_000_000) % 24
    assert (weekday >= 5).mean() < 0.15  # weekends are quiet on the phone
    assert ((hour >= 8) & (hour < 19)).mean() > 0.75


def test_comments_are_varied_and_mention_the_themes(small: DemoWorld) -> None:
    comments = small.responses["comment"].drop_null()
    assert len(comments) > 0.35 * small.responses.num_rows
    assert len(pc.unique(comments)) > 500
    text = " ".join(comments.to_pylist()).lower()
    for word in ("charged", "deliver", "crash", "waited", "friendly", "quality", "transferred", "price"):
        assert word in text, word


# -- the planted effects (docs/demo.md) ---------------------------------------------------------


def test_effect_1_nps_drops_after_a_second_handoff(small: DemoWorld) -> None:
    r = small.responses
    nps = r.filter(pc.equal(r["metric"], "nps"))
    handed_off = second_handoff_at(small)
    user, at, score = strings(nps, "user_id"), micros(nps, "answered_at"), nps["score"].to_numpy()
    after = np.array([at_ > handed_off.get(u, 2**62) for u, at_ in zip(user, at, strict=True)])
    assert after.sum() > 20
    assert score[after].mean() < 4.5
    assert score[~after].mean() > 7.5
    ever = np.isin(user, list(handed_off))  # the customer-level view, answers before the case included
    assert score[~ever].mean() - score[ever].mean() > 1.5


def test_effect_2_ces_after_a_phone_call_falls_with_the_wait(small: DemoWorld) -> None:
    r = small.responses
    ces = r.filter(pc.and_(pc.equal(r["metric"], "ces"), pc.equal(r["channel"], "phone")))
    properties = [json.loads(p) for p in ces["properties"].to_pylist()]
    wait = np.array([p["wait_seconds"] for p in properties])
    assert np.corrcoef(ces["score"].to_numpy(), wait)[0, 1] < -0.5
    calls = small.interactions.filter(pc.equal(small.interactions["name"], "support_call"))
    call = {
        json.loads(p)["call_id"]: (json.loads(p)["wait_seconds"], t, u)
        for p, t, u in zip(
            calls["properties"].to_pylist(),
            micros(calls, "occurred_at"),
            strings(calls, "user_id"),
            strict=True,
        )
    }
    for p, answered, user in zip(
        properties, micros(ces, "answered_at"), strings(ces, "user_id"), strict=True
    ):
        waited, ended, caller = call[p["call_id"]]
        assert (waited, caller) == (p["wait_seconds"], user) and ended < answered


@pytest.mark.slow
def test_effect_3_chat_csat_is_lower_overall_and_every_month(full: DemoWorld) -> None:
    r = full.responses
    csat = r.filter(pc.equal(r["metric"], "csat"))
    top = csat["score"].to_numpy() >= 4
    chat = strings(csat, "channel") == "chat"
    assert top[chat].mean() < 0.62
    assert top[~chat].mean() > 0.75
    month = micros(csat, "answered_at").astype("datetime64[us]").astype("datetime64[M]")
    months = np.unique(month)
    assert len(months) == 12
    for m in months:
        this = month == m
        assert top[this & chat].mean() + 0.1 < top[this & ~chat].mean(), m


@pytest.mark.slow
def test_effect_4_app_crash_cases_spike_for_two_weeks_four_months_before_the_end(full: DemoWorld) -> None:
    assert full.end - full.defect_start == timedelta(days=120)
    assert full.defect_end - full.defect_start == timedelta(days=14)
    crashes = full.cases.filter(pc.equal(full.cases["category"], "app_crash"))
    created = micros(crashes, "created_at")
    inside = (created >= us(full.defect_start)) & (created < us(full.defect_end))
    around = (created >= us(full.defect_start) - 56 * 86_400_000_000) & (
        created < us(full.defect_end) + 56 * 86_400_000_000
    )
    per_day_inside = inside.sum() / 14
    per_day_around = (around & ~inside).sum() / 112
    assert per_day_inside > 3 * per_day_around


@pytest.mark.slow
def test_effect_5_detractors_with_an_unresolved_case_churn_far_more(full: DemoWorld) -> None:
    r = full.responses
    detractors = values(
        r.filter(pc.and_(pc.equal(r["metric"], "nps"), pc.less_equal(r["score"], 6))), "user_id"
    )
    unresolved = pc.invert(pc.is_in(full.cases["status"], value_set=pa.array(["solved", "closed"])))
    waiting = values(full.cases.filter(unresolved), "user_id")
    users = strings(full.customers, "user_id")
    churned = full.customers["churned_at"].is_valid().to_numpy(zero_copy_only=False)
    group = np.isin(users, list(detractors & waiting))
    assert group.sum() > 100
    assert churned[group].mean() > 4 * churned[~group].mean()


@pytest.mark.slow
def test_the_default_world_has_a_million_interactions_on_every_channel_and_stage(full: DemoWorld) -> None:
    assert full.customers.num_rows == 20_000
    assert full.interactions.num_rows >= 1_000_000
    assert values(full.interactions, "channel") == set(CHANNELS)
    assert values(full.interactions, "stage") == set(STAGES)
    assert 200 <= len(values(full.interactions, "anonymous_id")) <= 800
