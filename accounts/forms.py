"""Forms for sign-in, invitations and creating patients. They parse; services decide."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import services, throttling
from accounts.backends import password_failed
from accounts.identifiers import MRN_MAX_LENGTH
from accounts.models import Sex, User
from accounts.scoping import therapists_in_clinic


class PageForm(forms.Form):
    """A form whose labels read as plain text ("Start date", not "Start date:")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(AuthenticationForm):
    """Django's sign-in form, which also takes the address as ``email`` (the contract allows
    ``username`` or ``email``); accounts.backends.EmailBackend reads either as the address."""

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        data = kwargs.get("data")
        if data is not None and not data.get("username") and data.get("email"):
            data = data.copy()
            data["username"] = data["email"]
            kwargs["data"] = data
        kwargs.setdefault("label_suffix", "")
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email address")
        self.fields["username"].widget = forms.EmailInput(
            attrs={
                "autocomplete": "username",
                "autofocus": True,
                "autocapitalize": "none",
                "maxlength": 254,
            }
        )
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            # While the address is locked the backend refuses without checking the password, so
            # a right and a wrong password get this same answer and a lock reveals nothing.
            # (This failure may also be the one that locked it.)
            email = str(self.cleaned_data.get("username") or "")
            if email:
                try:
                    throttling.login_check(email)
                except throttling.LockedOut as exc:
                    raise ValidationError(exc.message, code="locked") from None
            raise


class LockedOutPasswordChangeForm(PasswordChangeForm):
    """Django's password-change form, with the old password inside the per-account lockout.

    The old password is a password guess like a sign-in, so a wrong one counts toward the same
    lock as failed sign-ins (accounts.backends.password_failed, which audits the lock), and while
    the account is locked the old password is not checked at all: right or wrong, the answer is
    the sign-in lock's message. Somebody holding a signed-in session (a borrowed phone, an
    unlocked computer) cannot guess the password here past the lock either.
    """

    def _refuse_if_locked(self) -> None:
        try:
            throttling.login_check(self.user.email)
        except throttling.LockedOut as exc:
            raise ValidationError(exc.message, code="locked") from None

    def clean_old_password(self) -> str:
        old_password = str(self.cleaned_data["old_password"])
        self._refuse_if_locked()
        if self.user.check_password(old_password):
            throttling.login_succeeded(self.user.email)
            return old_password
        password_failed(self.user)
        # This failure may be the one that locked it: say so, as the login page does.
        self._refuse_if_locked()
        raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")


class InvitationPasswordForm(PageForm):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not only digits, not a common password."),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The two passwords do not match."))
        return data


class PasswordThroughTheService:
    """For Django's password forms: the password is set by ``services.password_change`` (tokens
    revoked, other sessions ended, audited, the user told), as everywhere else."""

    def set_password_and_save(
        self,
        user: User,
        password_field_name: str = "password1",  # noqa: S107  (a form field's name)
        commit: bool = True,
    ) -> User:
        cleaned: dict[str, Any] = self.cleaned_data  # type: ignore[attr-defined]
        if cleaned.get("set_usable_password") is False:
            # "Password-based authentication: disabled": no password to validate; what worked
            # under the old one stops working all the same.
            saved: User = super().set_password_and_save(  # type: ignore[misc]
                user, password_field_name=password_field_name, commit=commit
            )
            if commit:
                services.api_tokens_revoke_all(users=[user], actor=None, reason="password_changed")
            return saved
        password = cleaned[password_field_name]
        if not commit:
            user.set_password(password)
            return user
        services.password_change(user=user, new_password=password, actor=None)
        return user


class ResetPasswordSetForm(PasswordThroughTheService, SetPasswordForm):
    """The form behind a password-reset link (Django's, with our service doing the setting)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""  # labels read like every other form of the site

    def set_password_and_save(
        self,
        user: User,
        password_field_name: str = "password1",  # noqa: S107  (a form field's name)
        commit: bool = True,
    ) -> User:
        if not commit:
            return super().set_password_and_save(user, password_field_name, commit)
        # Whoever holds the emailed link is taken to be the user.
        services.password_change(
            user=user, new_password=self.cleaned_data[password_field_name], actor=user
        )
        return user


class ResetRequestForm(PasswordResetForm):
    """Anyone asks for a reset link by email. The answer never says whether the address has an
    account: the view answers the same, and this sends nothing for an unknown address, an
    account without a password yet, or an address that had its reset emails for this hour."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""  # labels read like every other form of the site
        self.fields["email"].label = _("Email address")

    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        for user in self.get_users(self.cleaned_data["email"]):
            assert isinstance(user, User)
            try:
                services.password_reset_email_send(user=user, actor=None)
            except (throttling.LockedOut, ValidationError):
                continue


class CodeForm(PageForm):
    """A code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, *args: Any, label: str | None = None, help_text: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["code"].label = label
        self.fields["code"].help_text = help_text


class ClinicSecurityForm(PageForm):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor sign-in for therapists and clinic admins"),
        required=False,
        help_text=_(
            "Staff without an authenticator app are asked to set one up at their next "
            "page; API tokens they got with a password alone stop working."
        ),
    )


class TherapistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


@cache
def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class PatientIdentifierFields(forms.Form):
    """Date of birth, sex and medical record number: what an EHR matches the patient on. All
    optional; the service checks the values (accounts/identifiers.py)."""

    birth_date = forms.DateField(label=_("Date of birth"), required=False, widget=_DateInput())
    sex = forms.ChoiceField(
        label=_("Sex"),
        required=False,
        choices=[("", _("Not recorded")), *Sex.choices],
        help_text=_("As the clinic records it."),
    )
    mrn = forms.CharField(
        label=_("Medical record number"),
        required=False,
        max_length=MRN_MAX_LENGTH,
        help_text=_("Your clinic's number for this patient, as in its records system."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PatientIdentifiersForm(PageForm, PatientIdentifierFields):
    pass


class PatientCreateForm(PageForm, PatientIdentifierFields):
    field_order = ["email", "first_name", "last_name", "timezone", "therapist"]

    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocapitalize": "none"})
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    timezone = forms.ChoiceField(
        label=_("Patient's time zone"),
        initial="UTC",
        help_text=_("Entries are dated in the patient's own day."),
    )
    therapist = TherapistChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Not assigned yet"),
        help_text=_("The therapist who follows this patient."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        timezone_field = self.fields["timezone"]
        assert isinstance(timezone_field, forms.ChoiceField)
        timezone_field.choices = _timezone_choices()
        if actor.is_clinic_admin:
            therapist_field = self.fields["therapist"]
            assert isinstance(therapist_field, forms.ModelChoiceField)
            therapist_field.queryset = therapists_in_clinic(actor).order_by(
                "last_name", "first_name"
            )
        else:
            # A therapist's new patient is always theirs (accounts.services.patient_create).
            del self.fields["therapist"]
