"""Survey definitions in a workspace: created from templates or SurveyJS files, listed, shown,
exported (and imported back unchanged), updated, archived; bad documents list every problem."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.live_server import run_cxlens

from cxlens.errors import Conflict, InvalidInput
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.queries import access_survey, list_surveys
from cxlens.surveys.service import archive_survey, create_survey, template_document, update_survey


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return run_cxlens("surveys", *args, db=db)


@pytest.mark.parametrize("template", ["nps", "csat", "ces"])
def test_templates_become_surveys_that_feed_their_metric(store: DuckDBStore, template: str) -> None:
    with store.unit_of_work() as uow:
        created = create_survey(uow, name=f"{template}-main", document=template_document(template))
    assert created.metric == template and created.survey_id.startswith("srv_")
    with store.session() as s:
        again = access_survey(s, created.survey_id)
        assert (
            again.definition == template_document(template)
            or again.definition["cxlensMetric"]["metric"] == template
        )
        assert [r["name"] for r in list_surveys(s)] == [f"{template}-main"]


def test_names_conflicts_updates_and_archiving(store: DuckDBStore) -> None:
    with store.unit_of_work() as uow:
        create_survey(uow, name="pulse", document=template_document("csat"))
    with pytest.raises(Conflict, match="exists already"), store.unit_of_work() as uow:
        create_survey(uow, name="pulse", document=template_document("nps"))
    with pytest.raises(InvalidInput, match="not a valid survey name"), store.unit_of_work() as uow:
        create_survey(uow, name="Pulse Survey!", document=template_document("nps"))
    with store.unit_of_work() as uow:
        updated = update_survey(uow, ref="pulse", document=template_document("ces"))
        assert updated.metric == "ces"
        assert archive_survey(uow, "pulse").archived_at is not None
    with pytest.raises(Conflict, match="archived already"), store.unit_of_work() as uow:
        archive_survey(uow, "pulse")


def test_cli_round_trip_and_every_problem_listed(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    made = cli("create", "nps-quarterly", "--template", "nps", "--format", "json", db=db)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["metric"] == "nps"
    exported = tmp_path / "nps.json"
    assert cli("export", "nps-quarterly", "--output", str(exported), db=db).returncode == 0
    assert cli("create", "nps-copy", "--file", str(exported), db=db).returncode == 0
    shown = json.loads(cli("show", "nps-copy", "--format", "json", db=db).stdout)
    assert shown["definition"] == json.loads(exported.read_text())  # imported back unchanged
    listed = json.loads(cli("list", "--format", "json", db=db).stdout)
    assert [r["name"] for r in listed] == ["nps-copy", "nps-quarterly"]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "title": "Broken",
                "pages": [
                    {
                        "name": "p1",
                        "elements": [
                            {"type": "rating", "name": "score", "rateMin": 0, "rateMax": "ten"},
                            {"type": "slider", "name": "x"},
                            {"type": "comment", "name": "why", "visibleIf": "{nope} > 3"},
                        ],
                    }
                ],
            }
        )
    )
    refused = cli("create", "broken", "--file", str(bad), db=db)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    for problem in ("rateMax", "slider", "nope"):  # every problem listed, each with where it is
        assert problem in refused.stderr, refused.stderr
    neither = cli("create", "x", db=db)
    assert neither.returncode == 2 and "exactly one of --template" in neither.stderr
