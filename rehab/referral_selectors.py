"""The reads of the referral follow-up: the list of referred patients and an episode's panel.

Scoped through ``accounts.scoping`` like every read of patient data. The list costs one query
whatever its length (episodes with their patient, therapist and follow-up, joined); "days since
referral" and "follow-up due" are worked out in Python in each patient's own today.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.scoping import AnyUser, can_manage_patients, scope_to_patients
from rehab.models import Episode, ReferralChange, ReferralFollowUp, ReferralOutcome
from rehab.referrals import FOLLOW_UP_DUE_DAYS, follow_up_due

# The list's filters: every referral, those waiting for their outcome (no outcome recorded yet),
# those whose follow-up is due (no appointment or outcome 14 days after referral), those with an
# outcome recorded.
SHOW_ALL = "all"
SHOW_AWAITING = "awaiting"
SHOW_DUE = "due"
SHOW_OUTCOME = "outcome"
SHOW_CHOICES = (
    (SHOW_ALL, _("All")),
    (SHOW_AWAITING, _("Awaiting appointment or outcome")),
    (SHOW_DUE, _("Follow-up due")),
    (SHOW_OUTCOME, _("Outcome recorded")),
)
SHOW_VALUES = tuple(value for value, _label in SHOW_CHOICES)
HISTORY_SHOWN = 20


@dataclass(frozen=True)
class ReferralRow:
    episode: Episode
    follow_up: ReferralFollowUp | None
    today: dt.date  # the patient's own today
    days_since_referral: int
    due: bool

    @property
    def has_outcome(self) -> bool:
        return bool(self.follow_up and self.follow_up.outcome)

    @property
    def awaiting(self) -> bool:
        return not self.has_outcome

    def shown_by(self, show: str) -> bool:
        if show == SHOW_DUE:
            return self.due
        if show == SHOW_AWAITING:
            return self.awaiting
        if show == SHOW_OUTCOME:
            return self.has_outcome
        return True


@dataclass(frozen=True)
class ReferralList:
    show: str
    rows: list[ReferralRow]
    counts: dict[str, int]


def _follow_up(episode: Episode) -> ReferralFollowUp | None:
    try:
        return episode.referral_follow_up
    except ReferralFollowUp.DoesNotExist:
        return None


def _row(episode: Episode, follow_up: ReferralFollowUp | None, now: dt.datetime) -> ReferralRow:
    assert episode.referral_date is not None
    today = now.astimezone(zoneinfo.ZoneInfo(episode.patient.timezone)).date()
    return ReferralRow(
        episode=episode,
        follow_up=follow_up,
        today=today,
        days_since_referral=(today - episode.referral_date).days,
        due=follow_up_due(episode=episode, follow_up=follow_up, today=today),
    )


def referred_episodes(user: AnyUser) -> QuerySet[Episode]:
    """Episodes in the caller's reach with a recorded referral (referred, or closed since)."""
    if not can_manage_patients(user):
        return Episode.objects.none()
    return scope_to_patients(
        user,
        Episode.objects.filter(referral_date__isnull=False).select_related(
            "patient__user", "patient__therapist", "referral_follow_up"
        ),
        via="patient",
    )


def referral_list(
    *, user: AnyUser, show: str = SHOW_ALL, now: dt.datetime | None = None
) -> ReferralList:
    """The referred patients in reach, follow-up due first, then the oldest referral first; an
    outcome already recorded goes last. ``show`` is one of ``SHOW_VALUES`` (others: all)."""
    if show not in SHOW_VALUES:
        show = SHOW_ALL
    now = now or timezone.now()
    rows = [_row(episode, _follow_up(episode), now) for episode in referred_episodes(user)]
    rows.sort(
        key=lambda r: (
            not r.due,
            r.has_outcome,
            r.episode.referral_date,
            r.episode.patient.user.get_full_name().casefold(),
            r.episode.pk,
        )
    )
    counts = {value: sum(1 for r in rows if r.shown_by(value)) for value in SHOW_VALUES}
    return ReferralList(show=show, rows=[r for r in rows if r.shown_by(show)], counts=counts)


# The words of the values a change shows, in the order a page lists them.
FIELD_LABELS = {
    "date": _("Referral date"),
    "referred_to": _("Referred to"),
    "note": _("Note"),
    "appointment_date": _("Appointment date"),
    "outcome": _("Outcome"),
    "outcome_date": _("Outcome date"),
    "surgery_date": _("Surgery date"),
}
_OUTCOME_LABELS = dict(ReferralOutcome.choices)


def _shown(name: str, value: Any) -> str:
    if value in (None, ""):
        return "–"
    if name == "outcome":
        return str(_OUTCOME_LABELS.get(value, value))
    if name.endswith("date") and isinstance(value, str):
        try:
            return date_format(dt.date.fromisoformat(value), "j M Y")
        except ValueError:
            return value
    return str(value)


@dataclass(frozen=True)
class ValueChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryItem:
    change: ReferralChange

    @property
    def values(self) -> list[ValueChange]:
        """Each value the change touched, before and after, in words."""
        old = dict(self.change.old_values or {})
        new = dict(self.change.new_values or {})
        # A withdrawal keeps the follow-up as it was, nested under the referral.
        old.update(old.pop("follow_up", None) or {})
        new.update(new.pop("follow_up", None) or {})
        return [
            ValueChange(
                label=str(label), old=_shown(name, old.get(name)), new=_shown(name, new.get(name))
            )
            for name, label in FIELD_LABELS.items()
            if (old.get(name) or None) != (new.get(name) or None)
        ]


@dataclass(frozen=True)
class ReferralPanel:
    """What the episode page and the API show about one episode's referral."""

    row: ReferralRow | None  # None: no referral recorded
    history: list[HistoryItem]
    due_days: int = FOLLOW_UP_DUE_DAYS


def referral_panel(*, episode: Episode, now: dt.datetime | None = None) -> ReferralPanel:
    """The referral of an episode already fetched within reach, with its follow-up and the
    history of changes (newest first). Two queries."""
    now = now or timezone.now()
    row = None
    if episode.referral_date is not None:
        # Read afresh: the episode may have been loaded before the follow-up was written.
        row = _row(episode, ReferralFollowUp.objects.filter(episode=episode).first(), now)
    changes = ReferralChange.objects.filter(episode=episode).select_related("changed_by")
    history = [HistoryItem(change) for change in changes[:HISTORY_SHOWN]]
    return ReferralPanel(row=row, history=history)
