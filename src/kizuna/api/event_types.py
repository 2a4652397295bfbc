"""The webhook event types of Customer 360. Other apps register theirs the same way, in
their own AppConfig.ready (see kizuna.api.webhooks.register_event_type)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kizuna.api.webhooks import register_event_type


def register_customer_event_types() -> None:
    from kizuna.customers import api

    accounts, contacts = _("Accounts"), _("Contacts")
    subscriptions, opportunities = _("Subscriptions"), _("Opportunities")
    touchpoints = _("Touchpoints")
    for name, label, group, serialize in [
        ("account.created", _("Account created"), accounts, api.serialize_accounts),
        ("account.updated", _("Account updated"), accounts, api.serialize_accounts),
        ("account.deleted", _("Account deleted"), accounts, api.serialize_accounts),
        ("contact.created", _("Contact created"), contacts, api.serialize_contacts),
        ("contact.updated", _("Contact updated"), contacts, api.serialize_contacts),
        ("contact.deleted", _("Contact deleted"), contacts, api.serialize_contacts),
        (
            "subscription.created",
            _("Subscription created"),
            subscriptions,
            api.serialize_subscriptions,
        ),
        (
            "subscription.updated",
            _("Subscription updated"),
            subscriptions,
            api.serialize_subscriptions,
        ),
        (
            "subscription.deleted",
            _("Subscription deleted"),
            subscriptions,
            api.serialize_subscriptions,
        ),
        (
            "opportunity.created",
            _("Opportunity created"),
            opportunities,
            api.serialize_opportunities,
        ),
        (
            "opportunity.updated",
            _("Opportunity updated"),
            opportunities,
            api.serialize_opportunities,
        ),
        (
            "opportunity.deleted",
            _("Opportunity deleted"),
            opportunities,
            api.serialize_opportunities,
        ),
        ("touchpoint.created", _("Touchpoint logged"), touchpoints, api.serialize_touchpoints),
        ("touchpoint.updated", _("Touchpoint updated"), touchpoints, api.serialize_touchpoints),
        ("touchpoint.deleted", _("Touchpoint deleted"), touchpoints, api.serialize_touchpoints),
    ]:
        register_event_type(name, label, group=group, serialize=serialize)
