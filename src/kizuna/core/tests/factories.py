from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from kizuna.core.models import Role, User


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"担当者{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.jp")
    role = Role.CSM
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
