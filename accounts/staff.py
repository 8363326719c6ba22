"""Staff administration: the writes a clinic admin makes about the clinic's therapists and admins.

Invite a therapist or an admin (an email with a one-time link, the invitation machinery of
patients), issue a fresh link, deactivate (sign-ins refused, sessions ended, API tokens revoked,
and the member's patients moved to the therapists the admin chose: nothing moves on its own),
reactivate, reassign a patient, and set or cancel cover while a therapist is away.

Every function here is a service: typed, keyword-only, checks that the actor is an active clinic
admin of the same clinic (``PermissionError`` otherwise: views answer 403; another clinic's
objects never get this far, scoping makes them 404), raises ``ValidationError`` keyed by field
for bad input, and writes its audit rows (ids only) in the transaction of its change.
docs/staff-administration.md describes it for the clinic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.audit import audit_record
from accounts.emails import normalize_email
from accounts.language import validate_language
from accounts.models import Cover, Invitation, Patient, Role, User
from accounts.scoping import cover_today
from accounts.services import (
    IssuedInvitation,
    _send_account_email,
    email_is_taken,
    has_signed_up,
    user_deactivate,
)
from accounts.tokens import digest, new_secret

STAFF_ROLES = (Role.THERAPIST, Role.CLINIC_ADMIN)
# The longest cover one row may give: a year. Longer absences are a reassignment.
COVER_MAX_DAYS = 366
NOTE_MAX = 200

EMAIL_UNUSABLE_FOR_STAFF = gettext_lazy(
    "This address cannot be used for a new staff account. If they already work here, find them "
    "in the staff list; otherwise use another address, or contact the operators of this "
    "installation."
)


def can_administer_staff(user: object) -> bool:
    """Active clinic admins (of a clinic): the only people who manage staff."""
    return (
        isinstance(user, User)
        and user.is_active
        and user.role == Role.CLINIC_ADMIN
        and user.clinic_id is not None
    )


def _require_admin_of(actor: User, clinic_id: int | None) -> int:
    """The actor's clinic id, once they are sure to be an active admin of ``clinic_id``."""
    if not can_administer_staff(actor):
        raise PermissionError("Only clinic admins manage staff.")
    if clinic_id is None or actor.clinic_id != clinic_id:
        # Views never get here (scoping makes it a 404); a direct caller is refused all the same.
        raise PermissionError("This belongs to another clinic.")
    return clinic_id


def _require_member(actor: User, member: User) -> int:
    clinic_id = _require_admin_of(actor, member.clinic_id)
    if member.role not in STAFF_ROLES:
        raise PermissionError("Not a member of the clinic's staff.")
    return clinic_id


def _active_therapist(actor: User, therapist: User, *, exclude: User | None = None) -> bool:
    return (
        therapist.role == Role.THERAPIST
        and therapist.is_active
        and therapist.clinic_id == actor.clinic_id
        and (exclude is None or therapist.pk != exclude.pk)
    )


# --- Inviting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitedStaff:
    member: User
    invitation: IssuedInvitation


def staff_invite(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    language: str = "",
) -> InvitedStaff:
    """Create a therapist or clinic admin of the actor's clinic and email them a one-time link
    to set their password (the same invitation as patients get; if the clinic requires
    two-factor sign-in, they set up their authenticator right after)."""
    _require_admin_of(actor, actor.clinic_id)
    email = normalize_email(email)
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = [_("This field is required.")]
    elif email_is_taken(email):
        errors["email"] = [str(EMAIL_UNUSABLE_FOR_STAFF)]
    if not first_name.strip():
        errors["first_name"] = [_("This field is required.")]
    if not last_name.strip():
        errors["last_name"] = [_("This field is required.")]
    if role not in STAFF_ROLES:
        errors["role"] = [_("Choose therapist or clinic admin.")]
    if language:
        try:
            validate_language(language)
        except ValidationError as exc:
            errors["language"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        member = User.objects.create_user(
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=role,
            clinic_id=actor.clinic_id,
            language=language,
        )
        audit_record(actor=actor, action="staff.invited", obj=member, clinic_id=actor.clinic_id)
        issued = _invitation_create(actor=actor, member=member)
    return InvitedStaff(member=member, invitation=issued)


STAFF_ALREADY_SIGNED_UP = gettext_lazy(
    "They have already set a password, so no invitation can be issued. If they forgot it, they "
    "can ask for a reset link on the sign-in page."
)


def staff_invitation_issue(*, actor: User, member: User) -> IssuedInvitation:
    """A fresh one-time link for a member who never set a password (older links stop
    working), emailed to them. The link is in the email only."""
    _require_member(actor, member)
    if has_signed_up(member):
        raise ValidationError({"member": [str(STAFF_ALREADY_SIGNED_UP)]})
    if not member.is_active:
        raise ValidationError({"member": [_("Reactivate this account first.")]})
    with transaction.atomic():
        return _invitation_create(actor=actor, member=member)


def _invitation_create(*, actor: User, member: User) -> IssuedInvitation:
    token = new_secret()
    now = timezone.now()
    Invitation.objects.filter(user=member, used_at__isnull=True).update(expires_at=now)
    invitation = Invitation.objects.create(
        user=member,
        token_digest=digest(token),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_LIFETIME_DAYS),
    )
    audit_record(
        actor=actor, action="invitation.issued", obj=invitation, clinic_id=member.clinic_id
    )
    issued = IssuedInvitation(invitation=invitation, token=token)
    context = {
        "first_name": member.first_name,
        "clinic": member.clinic.name if member.clinic else "",
        "inviter": actor.get_full_name(),
        "role": member.get_role_display(),
        "url": issued.url,
        "days": settings.INVITATION_LIFETIME_DAYS,
        "opened_hours": settings.PAIS_INVITATION_OPENED_LIFETIME_HOURS,
        "two_factor": bool(member.clinic and member.clinic.require_two_factor),
    }
    transaction.on_commit(
        lambda: _send_account_email(
            user=member,
            subject=gettext_lazy("Rehab diary: your staff account at %(clinic)s")
            % {"clinic": context["clinic"]},
            template="staff_invitation",
            context=context,
        )
    )
    return issued


# --- Reassigning patients ------------------------------------------------------------------------


def patient_reassign(*, actor: User, patient: Patient, therapist: User | None) -> Patient:
    """Give the patient to another therapist of the clinic (or to nobody: the clinic's admins
    then get their alerts). Audited as ``patient.reassigned`` on the patient, with a row on each
    therapist (``therapist.patient_removed`` / ``therapist.patient_added``) so that the trail says
    from whom to whom."""
    _require_admin_of(actor, patient.user.clinic_id)
    if therapist is not None and not _active_therapist(actor, therapist):
        raise ValidationError({"therapist": [_("Choose an active therapist of your clinic.")]})
    with transaction.atomic():
        _reassign(actor=actor, patient=patient, therapist=therapist)
    return patient


def _reassign(*, actor: User, patient: Patient, therapist: User | None) -> None:
    previous_id = patient.therapist_id
    new_id = therapist.pk if therapist is not None else None
    if previous_id == new_id:
        return
    Patient.objects.filter(pk=patient.pk).update(therapist_id=new_id)
    patient.therapist = therapist
    clinic_id = patient.user.clinic_id
    audit_record(
        actor=actor,
        action="patient.reassigned",
        obj=patient,
        clinic_id=clinic_id,
        patient_id=patient.pk,
    )
    if previous_id is not None:
        previous = User(pk=previous_id)
        audit_record(
            actor=actor,
            action="therapist.patient_removed",
            obj=previous,
            clinic_id=clinic_id,
            patient_id=patient.pk,
        )
    if therapist is not None:
        audit_record(
            actor=actor,
            action="therapist.patient_added",
            obj=therapist,
            clinic_id=clinic_id,
            patient_id=patient.pk,
        )


# --- Deactivating and reactivating ---------------------------------------------------------------


@dataclass(frozen=True)
class Deactivation:
    member: User
    # Patient id -> the id of the therapist who took them (None: left unassigned, by choice).
    moved: dict[int, int | None]
    covers_cancelled: list[int]
    sessions_ended: int


def staff_deactivate(
    *,
    actor: User,
    member: User,
    reassign: Mapping[int, User | None] | None = None,
) -> Deactivation:
    """Close a staff account: no more sign-ins, every session of theirs deleted, every API token
    revoked, unused invitation links voided, their covers (given or taken) cancelled.

    Refused while they have patients unless ``reassign`` names, for each of them, the therapist
    who takes them (or None: unassigned, alerts then go to the clinic's admins). Nothing moves
    that the admin did not choose. Refused for oneself and for the clinic's last active admin.
    """
    clinic_id = _require_member(actor, member)
    if member.pk == actor.pk:
        raise ValidationError({"member": [_("You cannot deactivate your own account.")]})
    if not member.is_active:
        raise ValidationError({"member": [_("This account is already inactive.")]})
    if member.role == Role.CLINIC_ADMIN and not (
        User.objects.filter(clinic_id=clinic_id, role=Role.CLINIC_ADMIN, is_active=True)
        .exclude(pk=member.pk)
        .exists()
    ):
        raise ValidationError({"member": [_("The clinic must keep at least one active admin.")]})
    chosen = dict(reassign or {})
    with transaction.atomic():
        patients = list(
            Patient.objects.select_for_update()
            .select_related("user")
            .filter(therapist=member)
            .order_by("user__last_name", "user__first_name", "pk")
        )
        _check_reassignment(actor=actor, member=member, patients=patients, chosen=chosen)
        moved: dict[int, int | None] = {}
        for patient in patients:
            target = chosen[patient.pk]
            _reassign(actor=actor, patient=patient, therapist=target)
            moved[patient.pk] = target.pk if target is not None else None
        cancelled = _cancel_covers_of(actor=actor, member=member)
        Invitation.objects.filter(user=member, used_at__isnull=True).update(
            expires_at=timezone.now()
        )
        user_deactivate(actor=actor, user=member)
        ended = _end_sessions(member)
        audit_record(
            actor=actor,
            action="user.sessions_ended",
            obj=member,
            clinic_id=member.clinic_id,
            item_count=ended,
        )
    return Deactivation(
        member=member, moved=moved, covers_cancelled=cancelled, sessions_ended=ended
    )


def _check_reassignment(
    *,
    actor: User,
    member: User,
    patients: list[Patient],
    chosen: dict[int, User | None],
) -> None:
    errors: list[str] = []
    own = {patient.pk for patient in patients}
    missing = [patient for patient in patients if patient.pk not in chosen]
    if missing:
        names = ", ".join(f"{p} (#{p.pk})" for p in missing)
        errors.append(
            ngettext(
                "%(name)s still has %(count)d patient: choose who takes them before "
                "deactivating (%(patients)s).",
                "%(name)s still has %(count)d patients: choose who takes each of them before "
                "deactivating (%(patients)s).",
                len(missing),
            )
            % {"name": member.get_full_name(), "count": len(missing), "patients": names}
        )
    foreign = sorted(pk for pk in chosen if pk not in own)
    if foreign:
        errors.append(
            _("Not patients of %(name)s: %(ids)s.")
            % {"name": member.get_full_name(), "ids": ", ".join(f"#{pk}" for pk in foreign)}
        )
    bad = sorted(
        pk
        for pk, target in chosen.items()
        if pk in own and target is not None and not _active_therapist(actor, target, exclude=member)
    )
    if bad:
        errors.append(
            _("Choose an active therapist of your clinic (other than %(name)s) for %(ids)s.")
            % {"name": member.get_full_name(), "ids": ", ".join(f"#{pk}" for pk in bad)}
        )
    if errors:
        raise ValidationError({"reassign": errors})


def _cancel_covers_of(*, actor: User, member: User) -> list[int]:
    """Cancel the covers, running or to come, in which ``member`` is away or covers."""
    today = cover_today()
    covers = list(
        Cover.objects.select_for_update()
        .filter(Q(absent=member) | Q(covering=member), cancelled_at__isnull=True)
        .filter(end_date__gte=today)
    )
    for cover in covers:
        _cancel(actor=actor, cover=cover)
    return [cover.pk for cover in covers]


def _end_sessions(member: User) -> int:
    """Delete every live session signed in as ``member`` (database sessions, the project's
    engine). Django would refuse them anyway (the account is inactive); deleting them means
    nothing of theirs stays signed in anywhere, whatever comes next."""
    if not settings.SESSION_ENGINE.endswith(".db"):
        return 0
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == str(member.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def staff_reactivate(*, actor: User, member: User) -> User:
    """Let a deactivated member sign in again. Their old API tokens stay revoked and their old
    sessions stay gone; their former patients stay with whoever took them."""
    _require_member(actor, member)
    if member.is_active:
        raise ValidationError({"member": [_("This account is already active.")]})
    with transaction.atomic():
        User.objects.filter(pk=member.pk).update(is_active=True)
        member.is_active = True
        audit_record(actor=actor, action="user.reactivated", obj=member, clinic_id=member.clinic_id)
    return member


# --- Cover while a therapist is away -------------------------------------------------------------


def cover_create(
    *,
    actor: User,
    absent: User,
    covering: User,
    start_date: dt.date,
    end_date: dt.date,
    note: str = "",
) -> Cover:
    """From ``start_date`` to ``end_date`` (both included), ``covering`` reaches ``absent``'s
    patients and gets their alert emails. One cover at a time per absent therapist; covers do not
    chain (whoever covers somebody who covers reaches only the latter's own patients)."""
    clinic_id = _require_admin_of(actor, actor.clinic_id)
    errors: dict[str, list[str]] = {}
    if not _active_therapist(actor, absent):
        errors["absent"] = [_("Choose an active therapist of your clinic.")]
    if not _active_therapist(actor, covering):
        errors["covering"] = [_("Choose an active therapist of your clinic.")]
    elif absent.pk == covering.pk:
        errors["covering"] = [_("Choose somebody other than the absent therapist.")]
    note = note.strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [_("Use at most %(max)d characters.") % {"max": NOTE_MAX}]
    today = cover_today()
    if end_date < start_date:
        errors["end_date"] = [_("The end is before the start.")]
    elif end_date < today:
        errors["end_date"] = [_("This cover would already be over: the end is in the past.")]
    elif (end_date - start_date).days + 1 > COVER_MAX_DAYS:
        errors["end_date"] = [
            _(
                "A cover lasts at most %(days)d days; for a longer absence reassign the "
                "patients instead."
            )
            % {"days": COVER_MAX_DAYS}
        ]
    if "absent" not in errors and "end_date" not in errors:
        overlapping = (
            Cover.objects.filter(absent=absent, cancelled_at__isnull=True)
            .filter(start_date__lte=end_date, end_date__gte=start_date)
            .select_related("covering")
            .first()
        )
        if overlapping is not None:
            errors["start_date"] = [
                _(
                    "%(absent)s is already covered by %(covering)s from %(start)s to %(end)s; "
                    "cancel that cover first or choose other dates."
                )
                % {
                    "absent": absent.get_full_name(),
                    "covering": overlapping.covering.get_full_name(),
                    "start": overlapping.start_date.isoformat(),
                    "end": overlapping.end_date.isoformat(),
                }
            ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        cover = Cover.objects.create(
            clinic_id=clinic_id,
            absent=absent,
            covering=covering,
            start_date=start_date,
            end_date=end_date,
            note=note,
            created_by=actor,
        )
        audit_record(actor=actor, action="cover.created", obj=cover, clinic_id=actor.clinic_id)
    return cover


def cover_cancel(*, actor: User, cover: Cover) -> Cover:
    """End a cover now (or before it starts). The row stays, marked cancelled."""
    _require_admin_of(actor, cover.clinic_id)
    if cover.cancelled_at is not None:
        raise ValidationError({"cover": [_("This cover is already cancelled.")]})
    if cover.end_date < cover_today():
        raise ValidationError({"cover": [_("This cover is already over.")]})
    with transaction.atomic():
        _cancel(actor=actor, cover=cover)
    return cover


def _cancel(*, actor: User, cover: Cover) -> None:
    cover.cancelled_at = timezone.now()
    cover.cancelled_by = actor
    cover.save(update_fields=["cancelled_at", "cancelled_by"])
    audit_record(actor=actor, action="cover.cancelled", obj=cover, clinic_id=cover.clinic_id)
