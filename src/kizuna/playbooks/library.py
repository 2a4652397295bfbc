"""The playbooks shipped with Kizuna (installed by `services.install_library`).

Texts go through gettext and are stored in the site's default language when installed.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kizuna.playbooks.choices import CtaType, Priority


def _step(title: str, guidance: str, days: int) -> dict[str, Any]:
    return {"title": title, "guidance": guidance, "due_offset_days": days}


def _renewal(days: int, priority: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "key": f"renewal-{days}",
        "name": _("Renewal in %(days)d days") % {"days": days},
        "description": _(
            "The contract renews in %(days)d days: make sure the customer sees the value "
            "and the renewal is on track."
        )
        % {"days": days},
        "cta_type": CtaType.RENEWAL,
        "priority": priority,
        "steps": steps,
    }


def shipped_playbooks() -> list[dict[str, Any]]:
    return [
        {
            "key": "onboarding-kickoff",
            "name": _("Onboarding kick-off"),
            "description": _(
                "A new customer signed: hold the kick-off, agree the goals and get the first "
                "users active within a month."
            ),
            "cta_type": CtaType.ONBOARDING,
            "priority": Priority.HIGH,
            "steps": [
                _step(
                    _("Schedule the kick-off meeting"),
                    _("Invite the champion and the decision maker; share the agenda in advance."),
                    2,
                ),
                _step(
                    _("Agree success criteria"),
                    _("Write down what success looks like for the customer in 90 days."),
                    5,
                ),
                _step(
                    _("Invite the first users"),
                    _("Help the administrator set up accounts and single sign-on."),
                    10,
                ),
                _step(
                    _("Check first value"),
                    _("Look at logins and the key features used; call if fewer than 3 users."),
                    21,
                ),
                _step(
                    _("Onboarding review"),
                    _("Review progress against the success criteria with the champion."),
                    30,
                ),
            ],
        },
        {
            "key": "no-login-14-days",
            "name": _("No login in 14 days"),
            "description": _("Nobody at the customer has logged in for two weeks."),
            "cta_type": CtaType.RISK,
            "priority": Priority.HIGH,
            "steps": [
                _step(
                    _("Check the usage data"),
                    _("Who used the product last, and what changed (people, season, project)?"),
                    0,
                ),
                _step(
                    _("Call the champion"),
                    _("Ask what is in the way. Listen before you propose anything."),
                    2,
                ),
                _step(
                    _("Offer a short training session"),
                    _("Propose 30 minutes on the two features that matter most to them."),
                    5,
                ),
                _step(
                    _("Confirm logins resumed"),
                    _("Check usage again; if nothing changed, escalate to your manager."),
                    12,
                ),
            ],
        },
        {
            "key": "usage-drop",
            "name": _("Usage drop"),
            "description": _("Active users fell sharply compared with the month before."),
            "cta_type": CtaType.RISK,
            "priority": Priority.MEDIUM,
            "steps": [
                _step(
                    _("Find where usage dropped"),
                    _("Compare active users and features per team with last month."),
                    1,
                ),
                _step(
                    _("Talk to the customer"),
                    _("Share what you see and ask for the reason."),
                    4,
                ),
                _step(
                    _("Agree a recovery plan"),
                    _("One or two concrete actions with dates, written down for both sides."),
                    10,
                ),
            ],
        },
        _renewal(
            90,
            Priority.MEDIUM,
            [
                _step(
                    _("Prepare the value review"),
                    _("Collect usage, outcomes and the health trend of the past year."),
                    7,
                ),
                _step(
                    _("Hold the value review"),
                    _("Present results to the decision maker; ask about next year's plans."),
                    21,
                ),
                _step(
                    _("Identify risks and expansion"),
                    _("Note budget, people changes and seats needed; inform sales."),
                    30,
                ),
            ],
        ),
        _renewal(
            60,
            Priority.HIGH,
            [
                _step(
                    _("Send the renewal proposal"),
                    _("Quote with the seats and plan agreed in the value review."),
                    7,
                ),
                _step(
                    _("Confirm the approval process"),
                    _("Who signs, and how long does their purchasing take?"),
                    14,
                ),
            ],
        ),
        _renewal(
            30,
            Priority.HIGH,
            [
                _step(
                    _("Chase the signature"),
                    _("Follow up with the decision maker; escalate blockers today."),
                    5,
                ),
                _step(
                    _("Record the renewal result"),
                    _("Close this CTA with the outcome: renewed, or churn risk confirmed."),
                    25,
                ),
            ],
        ),
        {
            "key": "expansion-seats",
            "name": _("Expansion: seats nearly full"),
            "description": _("The customer uses almost all licensed seats."),
            "cta_type": CtaType.EXPANSION,
            "priority": Priority.MEDIUM,
            "steps": [
                _step(
                    _("Confirm seat usage"),
                    _("Check active users against licensed seats and the trend."),
                    1,
                ),
                _step(
                    _("Propose additional seats"),
                    _("Talk about the teams that are not yet using the product."),
                    7,
                ),
                _step(
                    _("Hand over to sales"),
                    _("Create an upsell opportunity with the seats and amount."),
                    14,
                ),
            ],
        },
        {
            "key": "detractor-follow-up",
            "name": _("Detractor follow-up"),
            "description": _("A contact answered the NPS survey with 0–6."),
            "cta_type": CtaType.RISK,
            "priority": Priority.HIGH,
            "steps": [
                _step(
                    _("Read the feedback"),
                    _("Read the comment and the contact's recent tickets before calling."),
                    0,
                ),
                _step(
                    _("Call the contact within two days"),
                    _("Thank them, listen, and do not defend; note what they expect."),
                    2,
                ),
                _step(
                    _("Close the loop"),
                    _("Tell them what will change and by when; log it as a touchpoint."),
                    10,
                ),
            ],
        },
    ]
