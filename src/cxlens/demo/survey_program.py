"""The demo company's feedback programme, so the survey pages have something to show: an NPS, a
CSAT and a CES survey, triggers for the moments that matter, and a rule that turns detractors into
follow-up cases. Triggers and the rule act from now on — the demo's history is not surveyed again."""

from __future__ import annotations

from cxlens.automation.loop import add_rule
from cxlens.automation.triggers import add_trigger
from cxlens.storage.store import Store
from cxlens.surveys.service import create_survey, template_document

SURVEYS = {"nps-relationship": "nps", "csat-support": "csat", "ces-delivery": "ces"}


def seed_survey_program(store: Store) -> None:
    with store.unit_of_work() as uow:
        for name, template in SURVEYS.items():
            create_survey(uow, name=name, document=template_document(template))
        add_trigger(
            uow, name="csat-after-solve", survey="csat-support", kind="case_solved", delay_minutes=120
        )
        add_trigger(
            uow,
            name="ces-after-delivery",
            survey="ces-delivery",
            kind="interaction",
            event="order_delivered",
            delay_minutes=60,
            sample_rate=0.5,
        )
        add_rule(uow, name="detractors", metric="nps", team="customer-success")
