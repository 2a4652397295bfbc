from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from kizuna.customers.choices import SubscriptionStatus, TouchpointKind
from kizuna.customers.models import Account, Contact, Opportunity, Subscription, Touchpoint


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    name_kana = factory.Sequence(lambda n: f"テスト{n}")
    domain = factory.Sequence(lambda n: f"test{n}.co.jp")
    external_id = factory.Sequence(lambda n: f"SF-T{n:05d}")


class ContactFactory(DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"山田 太郎{n}")
    name_kana = "ヤマダ タロウ"
    email = factory.Sequence(lambda n: f"taro{n}@example.jp")


class SubscriptionFactory(DjangoModelFactory[Subscription]):
    class Meta:
        model = Subscription

    account = factory.SubFactory(AccountFactory)
    product = "Kizuna Cloud"
    plan = "Business"
    seats = 50
    mrr = Decimal(150_000)
    arr = Decimal(1_800_000)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=200))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=165))
    status = SubscriptionStatus.ACTIVE


class OpportunityFactory(DjangoModelFactory[Opportunity]):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    name = "追加ライセンス"
    kind = "upsell"
    amount = Decimal(600_000)
    close_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class TouchpointFactory(DjangoModelFactory[Touchpoint]):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    kind = TouchpointKind.MEETING
    occurred_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))
    subject = "定例ミーティング"
    body = "活用状況を確認した。"
