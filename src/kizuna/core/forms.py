from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import User


class UserForm(forms.ModelForm[User]):
    """Create or edit a user. A password is required on creation, optional on edit."""

    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        help_text=_("At least 10 characters. Leave empty to keep the current password."),
    )

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "role", "is_active"]
        labels = {"is_active": _("Active (may sign in)")}

    def __init__(self, *args: Any, acting_user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user
        if self.instance.pk is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("At least 10 characters.")

    def clean_password(self) -> str:
        password: str = self.cleaned_data.get("password", "")
        if password:
            password_validation.validate_password(password, self.instance)
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        editing_self = self.acting_user is not None and self.instance.pk == self.acting_user.pk
        if editing_self and cleaned.get("role") != "admin":
            self.add_error("role", _("You cannot remove your own admin role."))
        if editing_self and cleaned.get("is_active") is False:
            self.add_error("is_active", _("You cannot deactivate your own account."))
        return cleaned

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        password = self.cleaned_data.get("password")
        if password:
            user.set_password(password)
        if commit:
            user.save()
        return user
