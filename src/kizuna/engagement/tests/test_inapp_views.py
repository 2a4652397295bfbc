"""The in-app pages: list, editor validation, detail, activate/pause."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kizuna.engagement.choices import InAppStatus
from kizuna.engagement.models import InAppMessage
from kizuna.engagement.tests.factories import InAppMessageFactory

pytestmark = pytest.mark.django_db

BASE = {
    "name": "月次レポートのご案内",
    "key": "monthly-report",
    "kind": "banner",
    "content_type": "announcement",
    "title_ja": "新しいレポート",
    "body_ja": "月次レポートが作れます。",
    "audience": "everyone",
    "event_count": "1",
    "dwell_seconds": "0",
    "frequency": "once",
    "every_days": "7",
    "priority": "50",
}


def test_list_shows_messages(manager_client) -> None:
    InAppMessageFactory.create(name="ようこそバナー")

    response = manager_client.get(reverse("engagement:inapp_list"))

    assert "ようこそバナー" in response.content.decode()


def test_create_a_banner(manager_client) -> None:
    response = manager_client.post(reverse("engagement:inapp_new"), BASE)

    message = InAppMessage.objects.get(key="monthly-report")
    assert response.status_code == 302
    assert message.status == InAppStatus.DRAFT


def test_a_tour_needs_a_step_with_a_selector(manager_client) -> None:
    response = manager_client.post(reverse("engagement:inapp_new"), {**BASE, "kind": "tour"})

    assert response.status_code == 400
    assert "at least one step with a CSS selector" in response.content.decode()
    assert not InAppMessage.objects.filter(key="monthly-report").exists()


def test_a_bad_selector_is_named(manager_client) -> None:
    data = {
        **BASE,
        "kind": "tour",
        "step_selector": ["#ok", "div[data-x"],
        "step_title_ja": ["a", "b"],
    }

    response = manager_client.post(reverse("engagement:inapp_new"), data)

    assert response.status_code == 400
    assert "Step 2" in response.content.decode()


def test_tour_steps_are_saved(manager_client) -> None:
    data = {
        **BASE,
        "kind": "tour",
        "step_selector": ["#create-report", ""],
        "step_title_ja": ["作成", ""],
        "step_body_ja": ["ここから", ""],
        "step_title_en": ["Create", ""],
        "step_body_en": ["", ""],
    }

    manager_client.post(reverse("engagement:inapp_new"), data)

    assert InAppMessage.objects.get(key="monthly-report").steps == [
        {
            "selector": "#create-report",
            "title_ja": "作成",
            "body_ja": "ここから",
            "title_en": "Create",
            "body_en": "",
        }
    ]


def test_every_n_days_needs_n(manager_client) -> None:
    response = manager_client.post(
        reverse("engagement:inapp_new"), {**BASE, "frequency": "every_n_days", "every_days": "0"}
    )

    assert response.status_code == 400
    assert not InAppMessage.objects.filter(key="monthly-report").exists()


def test_segment_audience_needs_a_segment(manager_client) -> None:
    response = manager_client.post(reverse("engagement:inapp_new"), {**BASE, "audience": "segment"})

    assert response.status_code == 400
    assert "Choose the segment" in response.content.decode()


def test_a_bad_page_pattern_is_refused(manager_client) -> None:
    response = manager_client.post(
        reverse("engagement:inapp_new"), {**BASE, "url_pattern": "settings page"}
    )

    assert response.status_code == 400
    assert "starts with /" in response.content.decode()


def test_activate_and_pause(manager_client) -> None:
    message = InAppMessageFactory.create(status=InAppStatus.DRAFT)
    url = reverse("engagement:inapp_status", args=[message.pk])

    manager_client.post(url, {"status": "live"})
    message.refresh_from_db()
    assert message.status == InAppStatus.LIVE

    manager_client.post(url, {"status": "paused"})
    message.refresh_from_db()
    assert message.status == InAppStatus.PAUSED


def test_viewers_cannot_change_status(viewer_client) -> None:
    message = InAppMessageFactory.create(status=InAppStatus.DRAFT)

    response = viewer_client.post(
        reverse("engagement:inapp_status", args=[message.pk]), {"status": "live"}
    )

    assert response.status_code == 403


def test_detail_has_a_signed_demo_preview_link(manager_client) -> None:
    message = InAppMessageFactory.create()

    html = manager_client.get(reverse("engagement:inapp", args=[message.pk])).content.decode()

    assert "/demo-app/?kizuna_preview=" in html
    assert "inapp-preview-message" in html
