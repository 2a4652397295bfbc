"""The categories, emails and in-app messages Kizuna ships are installed by the migrations,
valid, and exactly what seed 004's flow templates refer to."""

from __future__ import annotations

import pytest

from kizuna.engagement import seed
from kizuna.engagement.models import EmailTemplate, InAppMessage, MessageCategory
from kizuna.engagement.rendering import validate_content
from kizuna.flows import actions, templates_seed

pytestmark = pytest.mark.django_db


def test_the_migrations_install_the_categories_and_templates() -> None:
    assert MessageCategory.objects.get(key="account").transactional
    assert set(EmailTemplate.objects.filter(shipped=True).values_list("key", flat=True)) == {
        email.key for email in seed.EMAILS
    }
    assert InAppMessage.objects.filter(shipped=True, status="draft").count() == len(seed.IN_APP)


@pytest.mark.parametrize("email", seed.EMAILS, ids=lambda email: email.key)
def test_every_shipped_email_is_valid_in_both_languages(email) -> None:
    assert validate_content(email.content) == []
    assert all(email.content[field] for field in ("subject_en", "html_en", "text_en"))


def test_installing_again_keeps_what_was_edited() -> None:
    EmailTemplate.objects.filter(key="login-details").update(name="edited")
    seed.install()
    assert EmailTemplate.objects.get(key="login-details").name == "edited"


def test_the_flow_templates_can_be_built_with_what_ships() -> None:
    emails = set(EmailTemplate.objects.values_list("key", flat=True))
    messages = set(InAppMessage.objects.values_list("key", flat=True))
    for template in templates_seed.TEMPLATES:
        assert not templates_seed.needs_tech_touch(template)
        for step in template.build()["steps"]:
            if step.get("action") == "email.send":
                assert step["params"]["template"] in emails
            if step.get("action") == "inapp.show":
                assert step["params"]["message"] in messages
    assert actions.available("email.send") and actions.available("inapp.show")
