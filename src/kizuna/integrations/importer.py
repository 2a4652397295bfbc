"""Checking a file against Kizuna's data, and writing what it changes.

`Planner.plan` reads every row, matches it to an existing record by external id, validates
it with the object's form and works out what would change — without writing anything. Every
lookup is set-based: the existing records, the accounts rows refer to and the users named as
owners are loaded with a few queries for the whole file, never one per row.

`write` applies a plan without errors inside the caller's transaction: new records in bulk,
changed records with one prepared UPDATE run for all of them, one audit entry per changed
row in bulk, the domain events in one `publish_many`, and the account rollups once.
"""

from __future__ import annotations

import datetime
import enum
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kizuna.core import audit, events
from kizuna.core.models import AuditAction, AuditEntry, User
from kizuna.customers.forms import CUSTOM_PREFIX, staff_choices
from kizuna.customers.models import Account, CustomFieldDefinition, Subscription
from kizuna.customers.services import refresh_rollups
from kizuna.integrations.cells import CellProblem, CellReader, is_blank, normalize_key, text
from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import ObjectType, Phase, TouchpointExternalId
from kizuna.integrations.tabular import SourceRow
from kizuna.integrations.targets import ACCOUNT_KEY, CUSTOM, ObjectSpec, Target

CHUNK = 2000
SAMPLE_CHANGES = 20
# Beyond this many accounts one UPDATE over all accounts is cheaper than a long IN list.
ROLLUP_ALL_ABOVE = 5000

Progress = Callable[[str, int], None]


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str


@dataclass
class Change:
    row: int
    action: Action
    instance: models.Model
    changes: dict[str, list[str]]
    external_id: str
    previous_account_id: int | None = None


@dataclass
class Plan:
    """What a file would do: counts, problems, and (when kept) the changes themselves."""

    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    problems: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    # updated_at of each record the plan updates, as read, to notice concurrent edits.
    versions: dict[Any, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.error_rows


class ConcurrentChange(Exception):
    """Records the plan updates were changed or deleted after they were checked."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def _same_moment(new: datetime.datetime, old: Any) -> bool:
    if not isinstance(old, datetime.datetime):
        return False
    if new.microsecond == 0:
        return new == old.replace(microsecond=0)
    if new.microsecond % 1000 == 0:
        return new == old.replace(microsecond=old.microsecond // 1000 * 1000)
    return new == old


def chunked[T](items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class UserIndex:
    """Users who may own records, found by user name, e-mail address or name (in either
    order, with or without a space)."""

    def __init__(self, users: Iterable[User]) -> None:
        self.by_username: dict[str, User] = {}
        self.by_email: dict[str, list[User]] = defaultdict(list)
        self.by_name: dict[str, list[User]] = defaultdict(list)
        self.found: dict[str, User] = {}
        for user in users:
            self.by_username[normalize_key(user.username)] = user
            if user.email:
                self.by_email[normalize_key(user.email)].append(user)
            names = {
                user.display_name,
                f"{user.first_name} {user.last_name}",
                f"{user.last_name} {user.first_name}",
            }
            for name in names:
                key = normalize_key(name)
                if key:
                    self.by_name[key].append(user)

    def find(self, raw: Any) -> User | None:
        name = text(raw)
        if not name:
            return None
        if name in self.found:
            return self.found[name]
        self.found[name] = user = self._find(name)
        return user

    def _find(self, name: str) -> User:
        key = normalize_key(name)
        if key in self.by_username:
            return self.by_username[key]
        for index in (self.by_email, self.by_name):
            found = index.get(key, [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise CellProblem(
                    _("“%(name)s” matches more than one user; use the user name instead.")
                    % {"name": name}
                )
        raise CellProblem(
            _(
                "No active CSM, manager or admin is called “%(name)s” (give a user name, "
                "an e-mail address or a display name)."
            )
            % {"name": name}
        )


class Planner:
    """Works out, row by row, what importing a file would change."""

    def __init__(
        self,
        spec: ObjectSpec,
        column_map: ColumnMap,
        headers: Sequence[str],
        *,
        file_format: str = "xlsx",
        keep_changes: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.spec = spec
        self.model = spec.model
        self.headers = list(headers)
        self.file_format = file_format
        self.keep_changes = keep_changes
        self.progress = progress or (lambda phase, done: None)
        self.form = spec.form_class(data={})
        definitions: list[CustomFieldDefinition] = list(getattr(self.form, "definitions", []))
        self.targets: dict[str, Target] = {
            target.name: target for target in spec.all_targets(definitions)
        }
        # The owner and author are found through a UserIndex built once, with the same rule
        # as the form's owner list, instead of the form's query per row.
        for name in spec.user_targets:
            self.form.fields.pop(name, None)
        self.form_fields = [name for name in self.form.fields if not name.startswith(CUSTOM_PREFIX)]
        self.custom_keys = [
            name.removeprefix(CUSTOM) for name in self.targets if name.startswith(CUSTOM)
        ]
        self.mapped: dict[str, tuple[int, str]] = {
            target: (index, column) for index, column, target in column_map.bound(self.headers)
        }
        readers: dict[str, CellReader] = {
            name: CellReader(
                self.form.fields[self.targets[name].form_field],
                normalised=name in spec.normalised,
                is_domain=name == "domain",
            )
            for name in self.mapped
            if self.targets[name].form_field in self.form.fields
        }
        self.model_fields = {name: self.model._meta.get_field(name) for name in self.form_fields}
        # A blank cell in a field that cannot be blank (an account's industry, a contract's
        # currency) keeps the record's value, or a new record's default, instead of failing
        # the row; one of a derived pair (MRR and ARR) is derived from the other instead.
        derived = {name for pair in spec.derived_pairs for name in pair}
        self.keep_when_blank = {
            name
            for name, model_field in self.model_fields.items()
            if not getattr(model_field, "blank", True) and name not in derived
        }
        # (target, column index, form field, reader, keep when blank) of each mapped cell.
        self.cell_readers: list[tuple[str, int, str, CellReader, bool]] = [
            (
                name,
                self.mapped[name][0],
                self.targets[name].form_field,
                reader,
                name in self.keep_when_blank,
            )
            for name, reader in readers.items()
        ]
        self.choice_hints: dict[str, str] = {}
        # The audit fields a new record's sample shows: those the file fills.
        self.sample_fields = {
            "account" if name == ACCOUNT_KEY else name.split(".")[0] for name in self.mapped
        } | {"custom_attributes"}
        for pair in spec.derived_pairs:
            if self.sample_fields & set(pair):
                self.sample_fields |= set(pair)
        # Filled for the whole file by plan(), before its rows are checked.
        self.accounts: dict[str, Account] = {}
        self.users: UserIndex | None = None
        self.unique_values: dict[str, dict[str, Any]] = {}
        # Moments a row sets (a touchpoint's date), compared at the file's precision.
        self.datetime_fields = [
            name
            for name, model_field in self.model_fields.items()
            if isinstance(model_field, models.DateTimeField)
        ]

    # --- the whole file -----------------------------------------------------------------

    def plan(self, rows: Iterable[SourceRow]) -> Plan:
        plan = Plan()
        if "external_id" not in self.mapped:
            plan.problems.append(
                _(
                    "No column is mapped to “%(field)s”. Every row needs one: it is how a row "
                    "finds its record, and what makes importing the same file twice safe."
                )
                % {"field": self.targets["external_id"].label}
            )
            return plan
        self.progress(Phase.READING, 0)
        pending = list(rows)
        plan.rows_total = len(pending)
        key_index = self.mapped["external_id"][0]
        keys = [text(row.values[key_index]) for row in pending]
        rows_by_key: dict[str, list[int]] = defaultdict(list)
        for row, key in zip(pending, keys, strict=True):
            if key:
                rows_by_key[key].append(row.number)
        existing = self._existing(list(rows_by_key))
        new_rows = sum(1 for key in keys if key not in existing)
        if new_rows and (problem := self._missing_for_create(new_rows)):
            plan.problems.append(problem)
            return plan
        self.accounts = self._accounts(pending)
        self.users = (
            UserIndex(staff_choices().queryset or User.objects.none())
            if any(name in self.mapped for name in self.spec.user_targets)
            else None
        )
        self.unique_values = self._unique_values(pending)
        self.progress(Phase.CHECKING, 0)
        for done, (row, key) in enumerate(zip(pending, keys, strict=True), start=1):
            self._plan_row(plan, row, key, existing.get(key), rows_by_key)
            if done % 500 == 0:
                self.progress(Phase.CHECKING, done)
        self.progress(Phase.CHECKING, plan.rows_total)
        return plan

    def _missing_for_create(self, new_rows: int) -> str | None:
        missing = [
            str(target.label)
            for target in self.targets.values()
            if target.required_to_create and target.name not in self.mapped
        ]
        for group in self.spec.required_any:
            if not any(name in self.mapped for name in group):
                missing.append(_(" or ").join(str(self.targets[name].label) for name in group))
        if not missing:
            return None
        return ngettext(
            "No column is mapped to %(fields)s, which the %(count)d row that creates a new "
            "record needs. Add the column to the file or map it; rows that only update "
            "existing records may leave it out.",
            "No column is mapped to %(fields)s, which the %(count)d rows that create new "
            "records need. Add the column to the file or map it; rows that only update "
            "existing records may leave it out.",
            new_rows,
        ) % {"fields": ", ".join(f"“{name}”" for name in missing), "count": new_rows}

    def _existing(self, keys: list[str]) -> dict[str, models.Model]:
        """The records the file's external ids already name, with the relations the audit
        log shows, in one query per 2,000 ids."""
        found: dict[str, models.Model] = {}
        if self.spec.object_type == ObjectType.TOUCHPOINTS:
            related = [f"touchpoint__{name}" for name in self.spec.related]
            for batch in chunked(keys):
                for link in TouchpointExternalId.objects.select_related(
                    "touchpoint", *related
                ).filter(external_id__in=batch):
                    found[link.external_id] = link.touchpoint
            return found
        manager = self.model._default_manager.select_related(*self.spec.related)
        for batch in chunked(keys):
            for record in manager.filter(external_id__in=batch):
                found[record.external_id] = record  # type: ignore[attr-defined]
        return found

    def _accounts(self, rows: list[SourceRow]) -> dict[str, Account]:
        if ACCOUNT_KEY not in self.mapped:
            return {}
        index = self.mapped[ACCOUNT_KEY][0]
        keys = {text(row.values[index]) for row in rows} - {""}
        found: dict[str, Account] = {}
        for batch in chunked(keys):
            for account in Account.objects.filter(external_id__in=batch).only(
                "id", "name", "external_id"
            ):
                found[account.external_id or ""] = account
        return found

    def _unique_values(self, rows: list[SourceRow]) -> dict[str, dict[str, Any]]:
        """For each other unique field (a contact's product user id): the rows of the file
        that use each value, and the record that holds it in Kizuna now."""
        result: dict[str, dict[str, Any]] = {}
        for name in self.spec.unique_fields:
            if name not in self.mapped:
                continue
            index = self.mapped[name][0]
            in_file: dict[str, list[int]] = defaultdict(list)
            for row in rows:
                value = text(row.values[index])
                if value:
                    in_file[value].append(row.number)
            holders: dict[str, str] = {}
            manager = self.model._default_manager
            for batch in chunked(in_file):
                holders.update(
                    manager.filter(**{f"{name}__in": batch}).values_list(name, "external_id")
                )
            result[name] = {"rows": in_file, "holders": holders}
        return result

    # --- one row ------------------------------------------------------------------------

    def _plan_row(
        self,
        plan: Plan,
        row: SourceRow,
        key: str,
        record: models.Model | None,
        rows_by_key: dict[str, list[int]],
    ) -> None:
        errors: list[RowError] = []

        def fail(target: str, message: str) -> None:
            column, value = self._column(target), self._raw(row, target)
            errors.append(RowError(row.number, column, value, message))

        if row.overflow and self.file_format == "csv":
            errors.append(
                RowError(
                    row.number,
                    "",
                    "",
                    ngettext(
                        "This row has %(count)d more value than the header row has columns; "
                        "check its quotes and delimiters.",
                        "This row has %(count)d more values than the header row has columns; "
                        "check its quotes and delimiters.",
                        row.overflow,
                    )
                    % {"count": row.overflow},
                )
            )
        if not key:
            fail(
                "external_id",
                _("The external ID is empty: every row needs one to find its record."),
            )
        elif len(rows_by_key[key]) > 1:
            fail(
                "external_id",
                _("External ID “%(id)s” is in more than one row of this file (rows %(rows)s).")
                % {"id": key, "rows": ", ".join(str(number) for number in rows_by_key[key][:10])},
            )
        instance = record if record is not None else self.model()
        before = audit.snapshot(instance) if record is not None else {}
        previous_account_id = getattr(instance, "account_id", None)
        version = getattr(instance, "updated_at", None)
        moments = {name: getattr(instance, name) for name in self.datetime_fields}
        data = self._data_from(instance)
        values = row.values
        for name, index, form_field, reader, keep_when_blank in self.cell_readers:
            raw = values[index]
            if keep_when_blank and is_blank(raw):
                continue
            try:
                data[form_field] = reader(raw)
            except CellProblem as exc:
                fail(name, str(exc))
        for first, second in self.spec.derived_pairs:
            # With only one of the pair in the file, the form derives the other from it.
            if (first in self.mapped) != (second in self.mapped):
                data[second if first in self.mapped else first] = None
        self._relate(instance, row, fail)
        self.form.data = data
        self.form.instance = instance
        self.form.full_clean()
        for form_field, problems in (self.form.errors and self.form.errors.as_data()).items():
            target = self._target_of(form_field)
            for problem in problems:
                if not isinstance(problem, ValidationError):
                    fail(target, str(problem))
                    continue
                for message in problem.messages:
                    if problem.code == "invalid_choice":
                        message = f"{message} {self._choice_hint(form_field)}"
                    fail(target, message)
        self._check_unique(instance, key, fail)
        if errors:
            plan.error_rows += 1
            plan.errors.extend(errors)
            return
        for attname in self.datetime_fields:
            value = getattr(instance, attname)
            if not isinstance(value, datetime.datetime) or not timezone.is_aware(value):
                continue
            # Compare moments in UTC, as the database returns them, and only as precisely as
            # the file gives them: 14:30:05 in a file is the 14:30:05.123 already stored.
            value = value.astimezone(datetime.UTC)
            if _same_moment(value, moments[attname]):
                value = moments[attname]
            setattr(instance, attname, value)
        if record is None:
            action = Action.CREATE
            plan.created += 1
            if not self.keep_changes and len(plan.samples) >= SAMPLE_CHANGES:
                return  # a dry run only counts new rows once it has its samples
            changes = audit.diff({}, audit.snapshot(instance))
        elif changes := audit.diff(before, audit.snapshot(instance)):
            action = Action.UPDATE
            plan.updated += 1
            plan.versions[instance.pk] = version
        else:
            plan.unchanged += 1
            return
        if len(plan.samples) < SAMPLE_CHANGES:
            plan.samples.append(
                {
                    "row": row.number,
                    "action": action.value,
                    "label": str(instance)[:200],
                    "changes": self._readable(changes, action),
                }
            )
        if self.keep_changes:
            plan.changes.append(
                Change(row.number, action, instance, changes, key, previous_account_id)
            )

    def _data_from(self, instance: models.Model) -> dict[str, Any]:
        """The form data of a record as it is now (for a new record: its defaults), which
        the row's cells then override. Columns the file leaves out keep their values."""
        data: dict[str, Any] = {
            name: model_field.value_from_object(instance)  # type: ignore[union-attr]
            for name, model_field in self.model_fields.items()
        }
        if self.custom_keys:
            current = getattr(instance, "custom_attributes", None) or {}
            for key in self.custom_keys:
                data[CUSTOM_PREFIX + key] = current.get(key)
        return data

    def _relate(self, instance: Any, row: SourceRow, fail: Callable[[str, str], None]) -> None:
        """Set the account and the users a row names, found in the preloaded lookups."""
        if ACCOUNT_KEY in self.mapped:
            account_key = text(row.values[self.mapped[ACCOUNT_KEY][0]])
            account = self.accounts.get(account_key)
            if not account_key:
                fail(ACCOUNT_KEY, _("The account's external ID is empty."))
            elif account is None:
                fail(
                    ACCOUNT_KEY,
                    _("No account has the external ID “%(id)s”.") % {"id": account_key},
                )
            else:
                instance.account = account
        if self.users is None:
            return
        for name in self.spec.user_targets:
            if name not in self.mapped:
                continue
            try:
                setattr(instance, name, self.users.find(row.values[self.mapped[name][0]]))
            except CellProblem as exc:
                fail(name, str(exc))

    def _check_unique(self, instance: Any, key: str, fail: Callable[[str, str], None]) -> None:
        for name, seen in self.unique_values.items():
            value = getattr(instance, name)
            if not value:
                continue
            rows = seen["rows"].get(value, [])
            if len(rows) > 1:
                fail(
                    name,
                    _("“%(value)s” is in more than one row of this file (rows %(rows)s).")
                    % {"value": value, "rows": ", ".join(str(number) for number in rows[:10])},
                )
            holder = seen["holders"].get(value, key)
            if holder != key:
                fail(
                    name,
                    _("“%(value)s” already belongs to another record (external ID “%(id)s”).")
                    % {"value": value, "id": holder or "—"},
                )

    def _choice_hint(self, form_field: str) -> str:
        """“Use one of: …” with the labels of a choice field, which the import accepts."""
        if form_field not in self.choice_hints:
            field = self.form.fields[form_field]
            labels = [
                str(label)
                for code, label in getattr(field, "choices", [])
                if code not in ("", None)
            ]
            self.choice_hints[form_field] = _("Use one of: %(choices)s.") % {
                "choices": ", ".join(labels)
            }
        return self.choice_hints[form_field]

    def _readable(self, changes: dict[str, list[str]], action: Action) -> dict[str, list[str]]:
        """A sample change as people read it: field labels, choice labels, and for a new
        record only the fields the file fills."""
        shown: dict[str, list[str]] = {}
        for name, (old, new) in changes.items():
            base, _dot, key = name.partition(".")
            if action == Action.CREATE and (not new or base not in self.sample_fields):
                continue
            if base == "custom_attributes":
                label = (
                    str(self.targets[CUSTOM + key].label) if (CUSTOM + key in self.targets) else key
                )
                shown[label] = [old[:100], new[:100]]
                continue
            model_field = self.model._meta.get_field(base)
            choices = dict(getattr(model_field, "flatchoices", None) or [])
            shown[str(getattr(model_field, "verbose_name", base))] = [
                str(choices.get(old, old))[:100],
                str(choices.get(new, new))[:100],
            ]
        return shown

    def _target_of(self, form_field: str) -> str:
        if form_field.startswith(CUSTOM_PREFIX):
            return CUSTOM + form_field.removeprefix(CUSTOM_PREFIX)
        return form_field

    def _column(self, target: str) -> str:
        if target in self.mapped:
            return self.mapped[target][1]
        known = self.targets.get(target)
        return f"({known.label})" if known else ""

    def _raw(self, row: SourceRow, target: str) -> str:
        if target not in self.mapped:
            return ""
        return text(row.values[self.mapped[target][0]])[:500]


# --- Writing ------------------------------------------------------------------------------


def write(plan: Plan, spec: ObjectSpec, actor: User | None) -> None:
    """Apply a plan without errors. Call inside a transaction: it either all happens or
    the caller's rollback undoes it."""
    assert plan.ok, "a plan with errors is never written"
    model = spec.model
    creates = [change for change in plan.changes if change.action == Action.CREATE]
    updates = [change for change in plan.changes if change.action == Action.UPDATE]
    _check_versions(model, plan.versions)
    if model is Account:
        # Bulk writes skip Account.save(), which is what normally fills search_text.
        for change in creates + updates:
            account = change.instance
            assert isinstance(account, Account)
            account.search_text = account.build_search_text()
    if spec.object_type == ObjectType.TOUCHPOINTS:
        # Touchpoints have no unique column to find their new ids by, so the ORM's
        # bulk_create (which returns them) is used; then their external ids are recorded.
        model._default_manager.bulk_create([change.instance for change in creates], batch_size=500)
        TouchpointExternalId.objects.bulk_create(
            [
                TouchpointExternalId(
                    touchpoint_id=change.instance.pk, external_id=change.external_id
                )
                for change in creates
            ],
            batch_size=1000,
        )
    else:
        _insert_rows(model, creates)
    _update_rows(model, [change.instance for change in updates])
    actor_id = actor.pk if actor is not None and actor.pk else None
    written = creates + updates
    _insert_rows(AuditEntry, [_audit_entry(actor_id, change) for change in written])
    events.publish_many(
        [
            events.DomainEvent(
                type=events.event_name(
                    change.instance, "created" if change.action == Action.CREATE else "updated"
                ),
                instance=change.instance,
                object_id=change.instance.pk,
                changes=change.changes,
                actor_id=actor_id,
            )
            for change in written
        ]
    )
    if model is Subscription:
        account_ids: set[int] = set()
        for change in written:
            account_ids.add(change.instance.account_id)  # type: ignore[attr-defined]
            if change.previous_account_id:
                account_ids.add(change.previous_account_id)
        if account_ids:
            refresh_rollups(None if len(account_ids) > ROLLUP_ALL_ABOVE else account_ids)


def _audit_entry(actor_id: int | None, change: Change) -> AuditEntry:
    instance = change.instance
    return AuditEntry(
        actor_id=actor_id,
        action=AuditAction.CREATE if change.action == Action.CREATE else AuditAction.UPDATE,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        account_id=instance.pk if isinstance(instance, Account) else instance.account_id,  # type: ignore[attr-defined]
        changes=change.changes,
    )


def _check_versions(model: type[models.Model], versions: dict[Any, Any]) -> None:
    """Refuse to write if a record the plan updates changed since it was read (locking the
    rows where the database can)."""
    stale = 0
    records = model._default_manager.all()
    if connection.features.has_select_for_update:
        records = records.select_for_update()
    for batch in chunked(versions):
        current = dict(records.filter(pk__in=batch).values_list("pk", "updated_at"))
        stale += sum(1 for pk in batch if current.get(pk) != versions[pk])
    if stale:
        raise ConcurrentChange(stale)


def _insert_rows(
    model: type[models.Model], creates: Sequence[Change] | Sequence[models.Model]
) -> None:
    """Insert new records, filling auto timestamps as Model.save() would, and give them
    their primary keys when they are import changes (found again by external id).

    PostgreSQL loads them with COPY; SQLite runs one prepared INSERT for every row. Both are
    many times faster than bulk_create, which compiles SQL for every row (and on PostgreSQL
    cannot use its array form for tables with JSON columns)."""
    instances = [item.instance if isinstance(item, Change) else item for item in creates]
    if not instances:
        return
    meta = model._meta
    fields = [model_field for model_field in meta.concrete_fields if not model_field.primary_key]
    stamped = [
        model_field.attname
        for model_field in fields
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False)
    ]
    now = timezone.now()
    for instance in instances:
        for attname in stamped:
            setattr(instance, attname, now)
    columns = ", ".join(_quote(str(model_field.column)) for model_field in fields)
    if connection.vendor == "postgresql":
        _copy_rows(f"COPY {_quote(meta.db_table)} ({columns}) FROM STDIN", fields, instances)
    else:
        _execute_many(
            f"INSERT INTO {_quote(meta.db_table)} ({columns}) "  # noqa: S608 (model names)
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            fields,
            instances,
            with_pk=False,
        )
    changes = [item for item in creates if isinstance(item, Change)]
    if changes:
        _fetch_ids(model, changes)


def _copy_rows(sql: str, fields: Sequence[Any], instances: Sequence[models.Model]) -> None:
    database = connections[DEFAULT_DB_ALIAS]
    preparers = [(model_field.attname, model_field.get_db_prep_save) for model_field in fields]
    with database.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for instance in instances:
            copy.write_row(
                [prepare(getattr(instance, attname), database) for attname, prepare in preparers]
            )


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


# Columns whose cleaned Python value the database driver takes as it is (str, int, bool,
# None): preparing them through the field would only copy the value, 2 million times for a
# large file. Dates, decimals and JSON still go through their field.
_PASSED_AS_IS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "EmailField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "SlugField",
        "TextField",
    }
)


def _preparer(model_field: Any, database: Any) -> Callable[[Any], Any]:
    if model_field.get_internal_type() in _PASSED_AS_IS:
        return lambda value: value
    prepare = model_field.get_db_prep_save
    return lambda value: prepare(value, database)


def _execute_many(
    sql: str, fields: Sequence[Any], instances: Sequence[models.Model], *, with_pk: bool
) -> None:
    """Run `sql` once per instance with its prepared field values (and its pk last)."""
    database = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: faster than the proxy
    preparers = [(model_field.attname, _preparer(model_field, database)) for model_field in fields]
    with database.cursor() as cursor:
        for batch in chunked(instances):
            rows = []
            for instance in batch:
                row = [prepare(getattr(instance, attname)) for attname, prepare in preparers]
                if with_pk:
                    row.append(instance.pk)
                rows.append(row)
            cursor.executemany(sql, rows)


def _fetch_ids(model: type[models.Model], creates: Sequence[Change]) -> None:
    """Give the records just inserted their primary keys, found by their external ids."""
    by_key = {change.external_id: change.instance for change in creates}
    for batch in chunked(by_key):
        for key, pk in model._default_manager.filter(external_id__in=batch).values_list(
            "external_id", "pk"
        ):
            instance = by_key[key]
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = connection.alias


def _update_rows(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Write every column of the given records with one prepared UPDATE executed for all of
    them — much faster than bulk_update's CASE expressions at tens of thousands of rows."""
    if not instances:
        return
    meta = model._meta
    fields = [
        model_field
        for model_field in meta.concrete_fields
        if not model_field.primary_key and model_field.name != "created_at"
    ]
    now = timezone.now()
    for instance in instances:
        instance.updated_at = now  # type: ignore[attr-defined]
    assignments = ", ".join(f"{_quote(str(model_field.column))} = %s" for model_field in fields)
    _execute_many(
        f"UPDATE {_quote(meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model)
        f"WHERE {_quote(str(meta.pk.column))} = %s",
        fields,
        instances,
        with_pk=True,
    )


def plan_targets(spec: ObjectSpec) -> list[Target]:
    """The targets of an object type with the current custom fields (for mapping screens)."""
    return spec.all_targets(list(CustomFieldDefinition.objects.all()))
