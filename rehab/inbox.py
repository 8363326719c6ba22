"""Marking the inbox's "New notifications" read, per person (docs/alerts.md, "Inbox").

A notification is one high or critical alert event (``InboxMessage``). Each therapist or admin
marks the ones they have seen; it then leaves their own list (nobody else's). A notification
whose alert is resolved leaves everybody's list without being marked
(``rehab.selectors.new_notifications``).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import can_manage_patients
from rehab import selectors
from rehab.models import InboxMessage, InboxMessageRead


def inbox_messages_mark_read(*, actor: User, message_ids: Collection[int] | None) -> int:
    """Mark these notifications (``None``: every new one) read for ``actor``.

    Ids out of the actor's reach, already read or of resolved alerts are passed over, so a
    second click changes nothing. Returns how many were marked; one audit row either way.
    """
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins have an alert inbox.")
    unread = selectors.new_notifications(user=actor)
    if message_ids is not None:
        unread = unread.filter(pk__in=list(message_ids))
    with transaction.atomic():
        ids = list(unread.values_list("pk", flat=True))
        InboxMessageRead.objects.bulk_create(
            [InboxMessageRead(message_id=pk, user=actor) for pk in ids],
            ignore_conflicts=True,  # a second tab marking the same one at once
        )
        audit_record(
            actor=actor,
            action="inbox.marked_read",
            obj=InboxMessage,
            clinic_id=actor.clinic_id,
            item_count=len(ids),
        )
    return len(ids)
