from django.db import models
from django.utils.translation import gettext_lazy as _


class FlowStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    EXITED = "exited", _("Exited")
    FAILED = "failed", _("Failed")
    HELD_OUT = "held_out", _("Held out")


class RunStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    WAITING = "waiting", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class StepType(models.TextChoices):
    ACTION = "action", _("Action")
    CONDITION = "condition", _("Condition")
    WAIT = "wait", _("Wait")
    DECISION = "decision", _("Decision")


class TriggerType(models.TextChoices):
    EVENT = "event", _("Event received")
    SEGMENT_ENTERED = "segment_entered", _("Entered a segment")
    SEGMENT_EXITED = "segment_exited", _("Left a segment")
    HEALTH_BAND_CHANGED = "health_band_changed", _("Health band changed")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    MILESTONE_REACHED = "milestone_reached", _("Milestone reached")
    MILESTONE_OVERDUE = "milestone_overdue", _("Milestone overdue")
    DATE = "date", _("A date relative to a field")
    SCHEDULE = "schedule", _("On a schedule")


class WaitFor(models.TextChoices):
    EVENT = "event", _("An event is received")
    SEGMENT_ENTERED = "segment_entered", _("The account enters a segment")
    MILESTONE_REACHED = "milestone_reached", _("A milestone is reached")
    EMAIL_OPENED = "email_opened", _("The email is opened")
    EMAIL_CLICKED = "email_clicked", _("A link in the email is clicked")


class DateField(models.TextChoices):
    RENEWAL = "renewal", _("Next renewal date")
    CONTRACT_START = "contract_start", _("Contract start")
    ACCOUNT_CREATED = "account_created", _("Account created")
    STAGE_ENTERED = "stage_entered", _("Entered the current stage")


class Reentry(models.TextChoices):
    ONCE = "once", _("Once per account")
    AGAIN = "again", _("Again after a number of days")
