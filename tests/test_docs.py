"""The docs cannot drift from the code: every scenario field is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.scenario import events, models

DOCS = Path(__file__).resolve().parents[1] / "docs"
MODELS = [
    obj for obj in vars(models).values()
    if isinstance(obj, type) and issubclass(obj, models.Model) and obj is not models.Model
]


EVENT_MODELS = [
    obj for obj in vars(events).values()
    if isinstance(obj, type) and issubclass(obj, models.Model) and obj is not models.Model
]


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_every_event_field_is_in_the_events_page(model):
    text = (DOCS / "events.md").read_text()
    missing = [name for name in model.model_fields if f"| `{name}` |" not in text]
    assert not missing, f"{model.__name__} fields missing from docs/events.md: {missing}"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_scenario_field_is_in_the_language_reference(model):
    text = (DOCS / "scenario-language.md").read_text()
    missing = [name for name in model.model_fields if f"| `{name}` |" not in text]
    assert not missing, f"{model.__name__} fields missing from docs/scenario-language.md: {missing}"
