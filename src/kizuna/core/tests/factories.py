from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from kizuna.core.models import Role, User


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"担当者{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.jp")
    role = Role.CSM
    password = factory.django.Password("correct horse battery")
