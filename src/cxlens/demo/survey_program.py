"""The demo company's feedback programme, so the survey pages have something to show: the surveys
its history was answered through (named as its responses name them, so those responses belong to
them), triggers for the moments that matter, and a rule that turns detractors into follow-up cases.
Triggers and the rule act from now on — the demo's history is not surveyed again."""

from __future__ import annotations

from cxlens.automation.loop import add_rule
from cxlens.automation.triggers import add_trigger
from cxlens.storage.store import Store
from cxlens.surveys.service import create_survey, template_document

# The ``survey`` of the demo's responses (demo/nps.py, demo/service_surveys.py) and its template.
SURVEYS = {
    "NPS quarterly": "nps",
    "CSAT after case": "csat",
    "CES after support": "ces",
    "CSAT after delivery": "csat",
}


def seed_survey_program(store: Store) -> None:
    with store.unit_of_work() as uow:
        for name, template in SURVEYS.items():
            create_survey(uow, name=name, document={**template_document(template), "name": name})
        add_trigger(
            uow, name="csat-after-solve", survey="CSAT after case", kind="case_solved", delay_minutes=120
        )
        add_trigger(
            uow,
            name="csat-after-delivery",
            survey="CSAT after delivery",
            kind="interaction",
            event="order_delivered",
            delay_minutes=60,
            sample_rate=0.5,
        )
        add_rule(uow, name="detractors", metric="nps", team="customer-success")
