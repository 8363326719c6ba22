"""Writing audit rows. Callers pass identifiers only; never pass health values here.

The request's IP address reaches the audit row through a context variable that
:class:`accounts.middleware.RequestContextMiddleware` sets, so services need not carry the
request around just to record where an action came from.

Two kinds of rows:

- **writes**: every service that changes clinical data calls :func:`audit_record` in the same
  transaction as the change ("entry.created", "episode.referred", ...);
- **reads**: every view that shows a patient's data to clinic staff calls :func:`audit_read`
  once per request, after the data was fetched within reach: one row for a detail
  ("episode.viewed"), one row with the number of items for a list ("entries.listed"), never one
  row per item.

Patients reading their own record are not recorded: the record is theirs, and their own phone
asking for today's form every morning would bury the reads that matter (staff looking at
somebody else's health data). Their writes and exports are recorded like everybody's.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from accounts.models import AuditEvent, User

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Model | type[Model],
    clinic_id: int | None = None,
    patient_id: int | None = None,
    item_count: int | None = None,
) -> AuditEvent:
    """Append one row. ``obj`` is the object acted on, or a model class for a list of them."""
    is_instance = isinstance(obj, Model)
    event = AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        clinic_id=clinic_id if clinic_id is not None else getattr(actor, "clinic_id", None),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk) if is_instance else "",
        patient_id=patient_id,
        item_count=item_count,
        ip_address=current_ip.get(),
    )
    event.save(force_insert=True)
    return event


def reads_are_audited(user: User | AnonymousUser) -> bool:
    """Whose reads are recorded: anybody signed in who is not a patient (clinic staff, and the
    installation's operators should they reach patient data)."""
    return isinstance(user, User) and user.is_authenticated and not user.is_patient


def audit_read(
    user: User | AnonymousUser,
    *,
    action: str,
    obj: Model | type[Model],
    patient_id: int | None = None,
    count: int | None = None,
) -> AuditEvent | None:
    """Record that ``user`` was shown a patient's data; None when reads of ``user`` are not
    audited (a patient reading their own record).

    ``obj`` is what was shown (an episode, an entry, a patient), or, for a list that hangs under
    no single object, the model of its items; ``count`` is how many items a list showed.
    ``patient_id`` names the patient whose data it was, when there is one.

    Call it after the object was fetched within reach and the answer is ready, so a refused or
    invalid request (404, 403, 400) leaves no read behind.
    """
    if not reads_are_audited(user):
        return None
    assert isinstance(user, User)
    return audit_record(
        actor=user,
        action=action,
        obj=obj,
        clinic_id=user.clinic_id,
        patient_id=patient_id,
        item_count=count,
    )
