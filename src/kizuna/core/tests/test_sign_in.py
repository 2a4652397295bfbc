"""Signing in, throttling of failed attempts, and password reset by email."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kizuna.core.models import Role
from kizuna.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _sign_in(client: Client, username: str, password: str):
    return client.post(reverse("core:login"), {"username": username, "password": password})


def test_csm_lands_on_my_accounts(client: Client) -> None:
    UserFactory.create(username="sato", role=Role.CSM)
    response = _sign_in(client, "sato", PASSWORD)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert "My accounts" in home.content.decode()


def test_wrong_password_shows_an_error(client: Client) -> None:
    UserFactory.create(username="sato")
    response = _sign_in(client, "sato", "wrong")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_repeated_failures_lock_the_login(client: Client) -> None:
    UserFactory.create(username="sato")
    for _attempt in range(5):
        _sign_in(client, "sato", "wrong")
    response = _sign_in(client, "sato", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_passwords_are_hashed_with_argon2(settings) -> None:
    from kizuna import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = UserFactory.create()
    assert user.password.startswith("argon2")


def test_password_reset_mails_a_working_link(client: Client) -> None:
    user = UserFactory.create(username="sato", email="sato@example.jp")
    client.post(reverse("core:password_reset"), {"email": "sato@example.jp"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password-reset/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    new_password = "Minami-Kaze-2026!"
    client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"new_password1": new_password, "new_password2": new_password},
    )
    user.refresh_from_db()
    assert user.check_password(new_password)
