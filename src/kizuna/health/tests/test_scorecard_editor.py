"""The scorecard editor: a definition as rows of inputs and back, its buttons, the preview
on real accounts (nothing written), and saving as a new version — or refusing, saying
where."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.conditions import Context
from kizuna.health import editor, services
from kizuna.health.models import HealthScore, Scorecard
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import arr_definition, current, scorecard

pytestmark = pytest.mark.django_db


def _inputs(raw: dict[str, Any]) -> dict[str, Any]:
    """The editor's inputs for a definition, as the browser would post them."""
    data: dict[str, Any] = {
        "d-red_below": raw["bands"]["red_below"],
        "d-green_from": raw["bands"]["green_from"],
        "d-groups": len(raw["groups"]),
    }
    for i, group in enumerate(raw["groups"]):
        g = f"d-g{i}"
        data.update({f"{g}-{k}": group[k] for k in ("key", "label_ja", "label_en", "weight")})
        data[f"{g}-measures"] = len(group["measures"])
        for j, measure in enumerate(group["measures"]):
            m = f"{g}-m{j}"
            data.update({f"{m}-{k}": measure[k] for k in ("key", "label_ja", "label_en", "weight")})
            data[f"{m}-metric"] = measure["metric"]["metric"]
            for name, value in measure["metric"].get("params", {}).items():
                data[f"{m}-p-{name}"] = value
            mapping = measure["mapping"]
            data[f"{m}-kind"] = mapping["kind"]
            if mapping["kind"] == "linear":
                data[f"{m}-from"], data[f"{m}-to"] = mapping["from"], mapping["to"]
            elif mapping["kind"] == "bands":
                data[f"{m}-bands"] = len(mapping["bands"])
                for k, band in enumerate(mapping["bands"]):
                    data[f"{m}-b{k}-min"], data[f"{m}-b{k}-points"] = band["min"], band["points"]
            elif mapping["kind"] == "choices":
                data[f"{m}-choices"] = len(mapping["points"])
                for n, (value, points) in enumerate(mapping["points"].items()):
                    data[f"{m}-c{n}-value"], data[f"{m}-c{n}-points"] = value, points
            else:
                data[f"{m}-true"], data[f"{m}-false"] = mapping["true"], mapping["false"]
    return {key: str(value) for key, value in data.items()}


def _settings(**changes: Any) -> dict[str, str]:
    values = {
        "name": "Adoption health",
        "stage": "adoption",
        "priority": "100",
        "is_active": "on",
        "note": "",
    }
    values.update(changes)
    return values


def test_inputs_read_back_into_the_same_definition() -> None:
    raw = services.DEFAULT_DEFINITION

    assert services.validate_definition(editor.read(_inputs(raw))).dump() == (
        services.validate_definition(raw).dump()
    )


def test_buttons_add_and_remove_rows() -> None:
    raw = arr_definition()

    raw = editor.apply(raw, "add_group")
    raw = editor.apply(raw, "add_measure:1")
    raw = editor.apply(raw, "remove_measure:1:0")
    raw = editor.apply(raw, "add_band:0:0")

    assert [g["key"] for g in raw["groups"]] == ["money", "group_1"]
    assert [m["key"] for m in raw["groups"][1]["measures"]] == ["measure_2"]
    assert raw["groups"][0]["measures"][0]["mapping"]["bands"] == [{"min": 10, "points": 100}]


def test_choosing_a_choice_metric_switches_the_mapping_to_answers() -> None:
    raw = arr_definition()
    raw["groups"][0]["measures"][0]["metric"] = {"metric": "touchpoint.last_rating", "params": {}}

    row = editor.rows(raw).groups[0].measures[0]

    assert row.kind == "choices"
    assert [choice.value for choice in row.choices] == ["very_good", "good", "poor"]


def test_rows_view_renders_the_added_group(manager_client: Client) -> None:
    data = {**_inputs(arr_definition()), "op": "add_group"}

    response = manager_client.post(reverse("health:editor_rows"), data)

    assert response.status_code == 200
    assert 'name="d-g1-key"' in response.content.decode()


def test_preview_shows_draft_against_current_without_writing(manager_client: Client) -> None:
    card = scorecard(stage="adoption")
    account = account_with_arr(1_600_000, stage="adoption")
    services.recompute_scores(None, Context.now())
    before = list(HealthScore.objects.values_list("score", "band"))
    draft = arr_definition(green_from=90)

    response = manager_client.post(
        reverse("health:editor_preview"),
        {**_inputs(draft), **_settings(), "scorecard": str(card.pk)},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="preview-samples"' in page and account.name in page
    assert list(HealthScore.objects.values_list("score", "band")) == before
    assert card.versions.count() == 1


def test_preview_of_an_invalid_draft_says_where(manager_client: Client) -> None:
    draft = arr_definition()
    draft["groups"][0]["weight"] = 50

    response = manager_client.post(
        reverse("health:editor_preview"), {**_inputs(draft), **_settings()}
    )

    assert "add up to 50" in response.content.decode()


def test_manager_saves_a_new_scorecard(manager_client: Client) -> None:
    response = manager_client.post(
        reverse("health:scorecard_new"), {**_inputs(arr_definition()), **_settings()}
    )

    card = Scorecard.objects.get()
    assert response.status_code == 302 and response["Location"] == card.get_absolute_url()
    assert card.stage == "adoption" and current(card).number == 1


def test_saving_a_change_adds_a_version(manager_client: Client) -> None:
    card = scorecard()

    manager_client.post(
        reverse("health:scorecard", args=[card.pk]),
        {**_inputs(arr_definition(red_below=30)), **_settings(note="red later")},
    )

    card.refresh_from_db()
    assert current(card).number == 2 and current(card).note == "red later"


def test_saving_weights_that_do_not_add_up_is_refused_saying_where(
    manager_client: Client,
) -> None:
    card = scorecard()
    draft = arr_definition()
    draft["groups"][0]["measures"][0]["weight"] = 80

    response = manager_client.post(
        reverse("health:scorecard", args=[card.pk]), {**_inputs(draft), **_settings()}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Group “Money”" in page and "add up to 80" in page
    assert 'data-error-input="d-g0-m0-weight"' in page
    card.refresh_from_db()
    assert card.versions.count() == 1 and card.name == "Standard"


def test_csm_cannot_use_the_editor_endpoints(csm_client: Client) -> None:
    assert csm_client.post(reverse("health:editor_rows"), {}).status_code == 403
    assert csm_client.post(reverse("health:editor_preview"), {}).status_code == 403
