"""``cxlens surveys loop`` in real subprocesses: a rule, a pass that opens a follow-up case, the
status with the funnel and the follow-up, disabling, and one-line errors."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from tests.factories import write_csv
from tests.live_server import CXLENS, run_cxlens


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return run_cxlens("surveys", *args, db=db, env={"CXLENS_SURVEY_CONTACT_DAYS": "30"})


def imported(path: Path, db: Path) -> None:
    done = subprocess.run(
        [*CXLENS, "import", "responses", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_rule_turns_a_detractor_into_a_followup_and_reports_it(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    assert run("create", "nps-q", "--template", "nps", db=db).returncode == 0
    added = run(
        "loop",
        "add",
        "detractors",
        "--metric",
        "nps",
        "--team",
        "care",
        "--survey",
        "nps-q",
        "--format",
        "json",
        db=db,
    )
    assert added.returncode == 0, added.stderr
    rule = json.loads(added.stdout)
    assert (rule["max_score"], rule["survey"], rule["priority"], rule["resurvey"]) == (
        6,
        "nps-q",
        "high",
        True,
    )
    now = datetime.now(UTC).isoformat()  # after the rule: earlier answers are never followed up
    answers = [
        {
            "user_id": "u1",
            "metric": "nps",
            "score": 2,
            "survey": "nps-q",
            "comment": "Slow",
            "answered_at": now,
        },
        {"user_id": "u2", "metric": "nps", "score": 9, "survey": "nps-q", "answered_at": now},
    ]
    imported(write_csv(tmp_path / "answers.csv", answers), db)

    first = run("loop", "run", "--format", "json", db=db)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "followups_opened": 1,
        "resurveys_planned": 0,
        "resurveys_held_back": 0,
    }
    assert json.loads(run("loop", "run", "--format", "json", db=db).stdout)["followups_opened"] == 0

    status = json.loads(run("loop", "status", "--since", "2000-01-01", "--format", "json", db=db).stdout)
    assert (status["unhappy"], status["followed_up"], status["followed_up_rate"], status["recovered"]) == (
        1,
        1,
        1.0,
        0,
    )
    [followup] = status["recent_followups"]
    assert (followup["score"], followup["comment"], followup["case_status"], followup["team"]) == (
        2,
        "Slow",
        "new",
        "care",
    )
    assert followup["case_id"].startswith("case_") and followup["resurvey"] == "waiting"
    table = run("loop", "status", db=db)
    assert table.returncode == 0 and "Recent follow-ups" in table.stdout

    assert run("loop", "disable", "detractors", db=db).returncode == 0
    [listed] = json.loads(run("loop", "list", "--format", "json", db=db).stdout)
    assert listed["name"] == "detractors" and listed["disabled_at"] is not None


def test_bad_rules_and_unknown_names_are_one_line_errors(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    for args, code, message in [
        (("loop", "add", "x", "--metric", "clv", "--team", "care"), 2, "Unknown metric"),
        (("loop", "add", "x", "--metric", "csat", "--team", "care", "--max-score", "5"), 2, "from 1 to 4"),
        (("loop", "disable", "nope"), 3, "No follow-up rule named 'nope'"),
        (("loop", "status", "--since", "last week"), 2, "not an ISO date"),
    ]:
        result = run(*args, db=db)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr + result.stdout
