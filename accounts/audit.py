"""Writing audit rows. Callers pass identifiers only; never pass health values here.

The request's IP address reaches the audit row through a context variable that
:class:`accounts.middleware.RequestContextMiddleware` sets, so services need not carry the
request around just to record where an action came from.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.db.models import Model

from accounts.models import AuditEvent, User

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Model,
    clinic_id: int | None = None,
    patient_id: int | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        clinic_id=clinic_id if clinic_id is not None else getattr(actor, "clinic_id", None),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        patient_id=patient_id,
        ip_address=current_ip.get(),
    )
