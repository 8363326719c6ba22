"""Every write to accounts: patients, invitations, API tokens, passwords, clinic security.

Two-factor enrolment has its own service module, accounts/twofactor.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.functional import Promise
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import throttling
from accounts.audit import audit_record
from accounts.emails import normalize_email, upper_case_look_alike
from accounts.identifiers import clean_identifiers
from accounts.language import in_language_of, validate_language
from accounts.models import (
    ApiToken,
    Clinic,
    Invitation,
    Patient,
    Role,
    User,
    validate_timezone_name,
)
from accounts.scoping import can_manage_patients, therapists_in_clinic
from accounts.tokens import digest, new_secret


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/invite/{self.token}/"


# One answer for every address a new patient cannot have: a patient or staff member of the
# caller's clinic, somebody of another clinic, or a look-alike of any of them. It must not tell
# the caller that the address belongs to somebody elsewhere (docs/security.md says what the
# clinic should do).
EMAIL_UNUSABLE_MESSAGE = gettext_lazy(
    "This address cannot be used for a new patient. If the patient is already in your clinic's "
    "list, open them there; otherwise ask the patient for another email address, or contact the "
    "operators of this installation."
)


def email_is_taken(email: str) -> bool:
    """Whether a new account may not have this (normalised) address: an account has it, or
    has the address it imitates (``admın@`` for ``admin@``; on PostgreSQL, whose ``iexact``
    folds with ``UPPER()``, in both directions)."""
    return User.objects.filter(
        Q(email__in={email, upper_case_look_alike(email)}) | Q(email__iexact=email)
    ).exists()


@dataclass(frozen=True)
class CreatedPatient:
    patient: Patient
    invitation: IssuedInvitation


def patient_create(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    timezone_name: str = "UTC",
    therapist: User | None = None,
    language: str = "",
    birth_date: dt.date | None = None,
    sex: str = "",
    mrn: str = "",
) -> CreatedPatient:
    """Create an invited patient in the actor's clinic and email them a one-time link.

    A therapist's new patient is assigned to that therapist. A clinic admin may name a therapist
    of the clinic, or leave the patient unassigned. ``language`` (a code of settings.LANGUAGES,
    or blank for the site's default) is the invitation email's and, until the patient chooses,
    the diary's language. ``birth_date``, ``sex`` and ``mrn`` (the clinic's medical record number,
    unique in the clinic) are optional: the identifiers an EHR matches the patient on.
    """
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins create patients.")
    identifiers, errors = clean_identifiers(
        clinic_id=actor.clinic_id,
        birth_date=birth_date,
        sex=sex,
        mrn=mrn,
        today=timezone.localdate(),
    )
    email = normalize_email(email)
    if not email:
        errors["email"] = [_("This field is required.")]
    elif email_is_taken(email):
        errors["email"] = [str(EMAIL_UNUSABLE_MESSAGE)]
    if not first_name.strip():
        errors["first_name"] = [_("This field is required.")]
    if not last_name.strip():
        errors["last_name"] = [_("This field is required.")]
    try:
        validate_timezone_name(timezone_name)
    except ValidationError as exc:
        errors["timezone"] = list(exc.messages)
    if language:
        try:
            validate_language(language)
        except ValidationError as exc:
            errors["language"] = list(exc.messages)
    if actor.role == Role.THERAPIST:
        # A therapist's new patient is theirs; naming somebody else would be silently ignored.
        if therapist is not None and therapist.pk != actor.pk:
            errors["therapist"] = [
                _("Only a clinic admin can assign a patient to another therapist.")
            ]
        therapist = actor
    elif therapist is not None and not therapists_in_clinic(actor).filter(pk=therapist.pk).exists():
        errors["therapist"] = [_("Choose a therapist of your clinic.")]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=Role.PATIENT,
            clinic_id=actor.clinic_id,
            language=language,
        )
        patient = Patient.objects.create(
            user=user,
            therapist=therapist,
            timezone=timezone_name,
            birth_date=identifiers.birth_date,
            sex=identifiers.sex,
            mrn=identifiers.mrn,
        )
        audit_record(actor=actor, action="patient.created", obj=patient, patient_id=patient.pk)
        issued = invitation_issue(actor=actor, patient=patient)
    return CreatedPatient(patient=patient, invitation=issued)


def patient_identifiers_update(
    *,
    actor: User,
    patient: Patient,
    birth_date: dt.date | None,
    sex: str,
    mrn: str,
) -> Patient:
    """Set the patient's date of birth, sex and medical record number (each may be blank), as
    a therapist or clinic admin of the patient's clinic records them. Audited as
    ``patient.identifiers_changed`` (ids only: the values are in the row, not the trail) when
    anything changed. Another patient of the clinic with the same number: ValidationError."""
    if not can_manage_patients(actor) or actor.clinic_id != patient.user.clinic_id:
        raise PermissionError("Only the clinic's therapists and admins edit patient identifiers.")
    with transaction.atomic():
        # One writer per clinic at a time, so that two patients cannot take the same number
        # between the check and the save (the clinic is on the user, out of a constraint's reach).
        Clinic.objects.select_for_update(of=("self",)).filter(members__patient=patient).first()
        identifiers, errors = clean_identifiers(
            clinic_id=patient.user.clinic_id,
            birth_date=birth_date,
            sex=sex,
            mrn=mrn,
            today=timezone.localdate(),
            patient=patient,
        )
        if errors:
            raise ValidationError(errors)
        before = (patient.birth_date, patient.sex, patient.mrn)
        after = (identifiers.birth_date, identifiers.sex, identifiers.mrn)
        if before == after:
            return patient
        Patient.objects.filter(pk=patient.pk).update(
            birth_date=identifiers.birth_date, sex=identifiers.sex, mrn=identifiers.mrn
        )
        patient.birth_date, patient.sex, patient.mrn = after
        audit_record(
            actor=actor,
            action="patient.identifiers_changed",
            obj=patient,
            clinic_id=patient.user.clinic_id,
            patient_id=patient.pk,
        )
    return patient


ALREADY_ACTIVE_MESSAGE = gettext_lazy(
    "This patient has already set a password, so an invitation cannot be issued. Send them a "
    "password-reset email instead: the link goes to the patient only."
)


def has_signed_up(user: User) -> bool:
    """Whether the user ever set a password or signed in: then no invitation is for them."""
    return user.has_usable_password() or user.last_login is not None


def invitation_issue(*, actor: User, patient: Patient) -> IssuedInvitation:
    """Issue a fresh one-time link (older unused links stop working) and email it.

    Only for a patient who never set a password: a link whose holder chooses the password of an
    account in use would hand that account (and the patient's diary) to whoever holds it."""
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins issue invitations.")
    if has_signed_up(patient.user):
        raise ValidationError({"patient": [ALREADY_ACTIVE_MESSAGE]})
    token = new_secret()
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(user=patient.user, used_at__isnull=True).update(expires_at=now)
        invitation = Invitation.objects.create(
            user=patient.user,
            token_digest=digest(token),
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_LIFETIME_DAYS),
        )
        audit_record(actor=actor, action="invitation.issued", obj=invitation, patient_id=patient.pk)
        issued = IssuedInvitation(invitation=invitation, token=token)
        transaction.on_commit(lambda: _send_invitation_email(patient=patient, issued=issued))
    return issued


def _send_invitation_email(*, patient: Patient, issued: IssuedInvitation) -> None:
    user = patient.user
    context = {
        "first_name": user.first_name,
        "clinic": user.clinic.name if user.clinic else "",
        "url": issued.url,
        "days": settings.INVITATION_LIFETIME_DAYS,
        "opened_hours": settings.PAIS_INVITATION_OPENED_LIFETIME_HOURS,
    }
    _send_account_email(
        user=user,
        subject=gettext_lazy("Your ankle rehab diary: set your password"),
        template="invitation",
        context=context,
    )


def _send_account_email(
    *, user: User, subject: str | Promise, template: str, context: dict[str, Any]
) -> None:
    """One of the account emails (``templates/emails/<template>.txt`` and ``.html``) to ``user``,
    and to nobody else: their links are theirs."""
    # Worded in the recipient's language, whoever's request sends it (a therapist's invitation).
    with in_language_of(user):
        mail = EmailMultiAlternatives(
            subject=str(subject),
            body=render_to_string(f"emails/{template}.txt", context),
            to=[user.email],
            headers={"Content-Language": translation.get_language()},
        )
        mail.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    mail.send()


INVITATION_UNUSABLE_MESSAGE = gettext_lazy(
    "This invitation link is unknown, used or expired. Ask your clinic for a new one."
)


def invitation_find_usable(*, token_digest: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("user").filter(token_digest=token_digest).first()
    if invitation is None or not invitation.is_usable():
        return None
    return invitation


def invitation_open(*, token: str) -> Invitation | None:
    """The link was opened (a GET of ``/invite/<token>/``): the first opening is recorded and
    audited with the caller's address, and from then on the link works for
    ``PAIS_INVITATION_OPENED_LIFETIME_HOURS`` at most. None if the link is not usable."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("user")
            .filter(token_digest=digest(token))
            .first()
        )
        if invitation is None or not invitation.is_usable():
            return None
        if invitation.opened_at is None:
            invitation.opened_at = timezone.now()
            invitation.save(update_fields=["opened_at"])
            audit_record(
                actor=None,
                action="invitation.opened",
                obj=invitation,
                clinic_id=invitation.user.clinic_id,
                patient_id=_patient_id(invitation.user),
            )
    return invitation


def _patient_id(user: User) -> int | None:
    return getattr(getattr(user, "patient", None), "pk", None)


def invitation_accept(*, token: str, password: str) -> User:
    """Activate an invited account with the chosen password; the link then stops working."""
    return invitation_accept_by_digest(token_digest=digest(token), password=password)


def invitation_accept_by_digest(*, token_digest: str, password: str) -> User:
    """As :func:`invitation_accept`, for the page that keeps only the digest in the session."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("user")
            .filter(token_digest=token_digest)
            .first()
        )
        # is_usable() also refuses a user who has set a password since the link was issued
        # (links issued by older versions for active patients).
        if invitation is None or not invitation.is_usable():
            raise ValidationError({"token": [INVITATION_UNUSABLE_MESSAGE]})
        user = invitation.user
        password_change(user=user, new_password=password, actor=user, field="password")
        if not user.is_active:
            User.objects.filter(pk=user.pk).update(is_active=True)
            user.is_active = True
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        audit_record(
            actor=user,
            action="invitation.accepted",
            obj=invitation,
            patient_id=_patient_id(user),
        )
    return user


def api_token_issue(*, user: User) -> str:
    """Issue a new API token and return its key; only the digest is kept."""
    key = new_secret()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        key_digest=digest(key),
        created_at=now,
        expires_at=now + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
    )
    audit_record(actor=user, action="api_token.issued", obj=token)
    return key


def api_token_revoke(*, user: User, token: ApiToken) -> None:
    if token.user_id != user.pk:
        raise PermissionError("A token can only be revoked by its owner.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=user, action="api_token.revoked", obj=token)


def api_tokens_revoke_all(*, users: Sequence[User], actor: User | None, reason: str) -> int:
    """Revoke every live token of these users (after a password change, a deactivation, or a
    clinic turning two-factor on). Returns how many were revoked."""
    now = timezone.now()
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update()
            .select_related("user")
            .filter(user__in=users, revoked_at__isnull=True, expires_at__gt=now)
        )
        ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=now)
        for token in tokens:
            audit_record(
                actor=actor,
                action=f"api_token.revoked.{reason}",
                obj=token,
                clinic_id=token.user.clinic_id,
            )
    return len(tokens)


def api_tokens_revoke_by_operator(*, actor: User, tokens: Sequence[ApiToken]) -> int:
    """An operator revokes tokens in the Django admin (a lost laptop, a leaked key). Returns how
    many were still live."""
    if not (actor.is_staff or actor.is_superuser):
        raise PermissionError("Only the installation's operators revoke other people's tokens.")
    now = timezone.now()
    revoked = 0
    with transaction.atomic():
        for token in (
            ApiToken.objects.select_for_update()
            .select_related("user")
            .filter(pk__in=[t.pk for t in tokens], revoked_at__isnull=True)
        ):
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="api_token.revoked.by_operator",
                obj=token,
                clinic_id=token.user.clinic_id,
            )
            revoked += 1
    return revoked


def password_change(
    *, user: User, new_password: str, actor: User | None, field: str = "new_password"
) -> None:
    """The one way a password is set: the invitation (page and API), the reset link, the
    password page, the Django admin's forms and ``manage.py changepassword`` all end here.

    It validates with Django's validators (errors name ``field``), then: every API token of the
    user is revoked; every other session ends (Django ties a session to the password's hash, and
    ``set_password`` always gives a new hash, also when the previous password was unusable; the
    caller keeps its own session with ``update_session_auth_hash``); a ``password.changed`` row
    is audited; and, when the user had a password before, they get an email saying it changed,
    so a change they did not make does not go unnoticed.
    """
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from exc
    had_password = user.has_usable_password()
    with transaction.atomic():
        user.set_password(new_password)
        if user.pk is None:
            user.save()  # the admin's add-user form: a new account
        else:
            user.save(update_fields=["password"])
        # The actor: the user themself, or None for an operator's tool (the admin, the command).
        audit_record(actor=actor, action="password.changed", obj=user, clinic_id=user.clinic_id)
        api_tokens_revoke_all(users=[user], actor=actor, reason="password_changed")
        if had_password and user.email:
            transaction.on_commit(lambda: _send_password_changed_email(user=user))


def _send_password_changed_email(*, user: User) -> None:
    context = {
        "first_name": user.first_name,
        "reset_url": f"{settings.SITE_URL}{reverse('password-reset')}",
    }
    _send_account_email(
        user=user,
        subject=gettext_lazy("Your ankle rehab diary: your password was changed"),
        template="password_changed",
        context=context,
    )


NOT_SIGNED_UP_MESSAGE = gettext_lazy(
    "This patient has not set a password yet: send them a new invitation link instead."
)


def password_reset_email_send(*, user: User, actor: User | None) -> None:
    """Email the user a one-time link to choose a new password (Django's signed token, valid
    ``PASSWORD_RESET_TIMEOUT`` and only until the password changes). The link is only in the
    email: it is never returned, shown or logged.

    Raises throttling.LockedOut beyond ``PAIS_PASSWORD_RESET_EMAILS_PER_HOUR`` for the address
    (the public form swallows it, so the answer stays the same), and ValidationError on
    ``patient`` for an account that has no password yet (staff then send an invitation).
    """
    if not user.is_active or not user.has_usable_password():
        raise ValidationError({"patient": [NOT_SIGNED_UP_MESSAGE]})
    throttling.reset_email_hit(user.email)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    context = {
        "first_name": user.first_name,
        "url": f"{settings.SITE_URL}{path}",
        "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        "by_clinic": actor is not None and actor.pk != user.pk,
    }
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="password.reset_requested",
            obj=user,
            clinic_id=user.clinic_id,
            patient_id=_patient_id(user),
        )
        transaction.on_commit(
            lambda: _send_account_email(
                user=user,
                subject=gettext_lazy("Your ankle rehab diary: choose a new password"),
                template="password_reset",
                context=context,
            )
        )


def patient_password_reset(*, actor: User, patient: Patient) -> None:
    """Staff ask for a password-reset email to go to the patient (who chooses the password)."""
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins send password-reset emails.")
    password_reset_email_send(user=patient.user, actor=actor)


def user_deactivate(*, actor: User, user: User) -> None:
    """Close an account: no more sign-ins, sessions end on their next request (Django refuses
    inactive users), and every API token is revoked, so re-activating does not revive them."""
    if not (
        actor.is_superuser
        or actor.is_staff
        or (actor.is_clinic_admin and actor.clinic_id and actor.clinic_id == user.clinic_id)
    ):
        raise PermissionError("Only a clinic admin of the user's clinic or an operator may.")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        audit_record(actor=actor, action="user.deactivated", obj=user, clinic_id=user.clinic_id)
        api_tokens_revoke_all(users=[user], actor=actor, reason="user_deactivated")


# What an operator's edit of a user in the Django admin records, by changed form field. Names
# say what kind of change it was; the new value stays in the user's row (ids only in the trail).
# Deactivation goes through user_deactivate, the password through password_was_set.
USER_CHANGE_ACTIONS = {
    "email": "user.email_changed",
    "first_name": "user.name_changed",
    "last_name": "user.name_changed",
    "role": "user.role_changed",
    "clinic": "user.clinic_changed",
    "is_active": "user.reactivated",
    "is_staff": "user.privileges_changed",
    "is_superuser": "user.privileges_changed",
    "groups": "user.privileges_changed",
    "user_permissions": "user.privileges_changed",
}


def user_saved_by_operator(
    *,
    actor: User,
    user: User,
    created: bool,
    changed_fields: Sequence[str],
    previous_clinic_id: int | None = None,
) -> list[str]:
    """Audit an operator's add or edit of ``user`` in the Django admin (already saved, in the
    admin's transaction). Returns the actions recorded, one row each; a move to another clinic
    is recorded in both clinics' trails."""
    if not (actor.is_superuser or actor.is_staff):
        raise PermissionError("Only an operator edits users in the Django admin.")
    if created:
        actions = ["user.created"]
    else:
        actions = list(
            dict.fromkeys(
                USER_CHANGE_ACTIONS[field]
                for field in changed_fields
                if field in USER_CHANGE_ACTIONS and (field != "is_active" or user.is_active)
            )
        )
    for action in actions:
        audit_record(actor=actor, action=action, obj=user, clinic_id=user.clinic_id)
    if "user.clinic_changed" in actions and previous_clinic_id not in (None, user.clinic_id):
        audit_record(
            actor=actor, action="user.clinic_changed", obj=user, clinic_id=previous_clinic_id
        )
    return actions


def clinic_two_factor_set(*, actor: User, clinic: Clinic, required: bool) -> int:
    """Require (or stop requiring) two-factor sign-in for the clinic's therapists and admins.

    Turning it on revokes the API tokens of staff who have no authenticator yet: those tokens
    were issued on a password alone. Returns how many tokens were revoked.
    """
    if not (
        actor.is_superuser
        or actor.is_staff
        or (actor.is_clinic_admin and actor.clinic_id == clinic.pk)
    ):
        raise PermissionError("Only a clinic admin of this clinic may change its security.")
    with transaction.atomic():
        Clinic.objects.filter(pk=clinic.pk).update(require_two_factor=required)
        clinic.require_two_factor = required
        audit_record(
            actor=actor,
            action="clinic.two_factor_required" if required else "clinic.two_factor_optional",
            obj=clinic,
            clinic_id=clinic.pk,
        )
        if not required:
            return 0
        without = list(
            User.objects.filter(
                clinic=clinic, is_active=True, role__in=[Role.THERAPIST, Role.CLINIC_ADMIN]
            )
            .annotate(
                has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
            )
            .filter(has_totp=False)
        )
        return api_tokens_revoke_all(users=without, actor=actor, reason="two_factor_required")
