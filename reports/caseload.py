"""The triaged caseload: every active episode in reach, the most urgent first, a page at a time.

A therapist's home page (a clinic admin's: the whole clinic) costs the same few queries and
about the same time for 50 patients or 10,000, because it never runs the rules per row. Every
evaluation stores its result per episode (``rehab.read_model``: recommendation, the urgency of
its findings, the metrics shown here, as of the patient's today), and this page:

1. brings any stale stored row up to date first (``refresh_stale_evaluations``: usually none, a
   few after entries whose evaluation is still queued);
2. filters, sorts and pages in SQL over those rows, the urgency being the worse of the stored
   findings' and the unresolved alerts' (a subquery, so acknowledging or resolving an alert
   moves the patient at once);
3. reads the unresolved alerts of the page's rows (one query) and the clinic's therapists (admins
   only, one query).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts.models import User
from accounts.scoping import AnyUser, can_manage_patients, scope_to_patients, therapists_in_clinic
from rehab.models import (
    Alert,
    AlertStatus,
    Episode,
    EpisodeEvaluation,
    EpisodeStatus,
    Side,
)
from rehab.read_model import (
    URGENCY,
    alert_order,
    refresh_stale_evaluations,
    stale_evaluation,
)
from rehab.search import normalise, patient_search
from rehab.vocabulary import RECOMMENDATION_LABELS, SEVERITY_LABELS, code_label
from reports.sparkline import Svg, pain_slots_sparkline

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The 50 most urgent first; a large caseload pages on. Drawing a row (its sparkline, its
# figures, its card labels) is most of the page's time: 50 keep it well under 150 ms at any size
# (docs/performance.md), and a therapist's most urgent patients still fit on the first page.
PAGE_SIZE = 50
NO_ALERTS = "none"
UNASSIGNED = "none"

# The caseload lists active episodes only, so neither "closed" nor "referred" is offered as a
# filter (neither could ever match): referred patients are followed up on /referrals/.
RECOMMENDATION_CHOICES: tuple[tuple[str, StrOrPromise], ...] = tuple(
    (code, RECOMMENDATION_LABELS[code])
    for code in (
        "refer_now",
        "consider_referral",
        "address_adherence",
        "insufficient_data",
        "continue",
        "resolved",
    )
)
SEVERITY_CHOICES: tuple[tuple[str, StrOrPromise], ...] = (
    *((s, SEVERITY_LABELS[s]) for s in URGENCY),
    (NO_ALERTS, gettext_lazy("No unresolved alerts")),
)

_SIDES = dict(Side.choices)


@dataclass(frozen=True, slots=True)
class CaseloadFilters:
    recommendation: str = ""
    severity: str = ""
    therapist: str = ""  # a therapist's id, UNASSIGNED, or "" (clinic admins only)
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.recommendation or self.severity or self.therapist or self.q)

    @classmethod
    def from_query(cls, params: Mapping[str, Any], *, user: AnyUser) -> CaseloadFilters:
        """Read the GET parameters; a value that is not one of the choices is ignored."""

        def get(name: str) -> str:
            value = params.get(name)
            return value.strip() if isinstance(value, str) else ""

        recommendation = get("recommendation")
        severity = get("severity")
        therapist = get("therapist")
        may_pick_therapist = isinstance(user, User) and user.is_clinic_admin
        # isascii: "²".isdigit() is true, but it is not a number int() reads.
        is_id = therapist.isascii() and therapist.isdigit()
        if not may_pick_therapist or not (therapist == UNASSIGNED or is_id):
            therapist = ""
        return cls(
            recommendation=recommendation if recommendation in dict(RECOMMENDATION_CHOICES) else "",
            severity=severity if severity in dict(SEVERITY_CHOICES) else "",
            therapist=therapist,
            q=normalise(get("q")),
        )


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    episode_id: int
    patient_id: int
    patient_name: str
    affected_side: str
    therapist_name: str | None
    start_date: dt.date
    as_of: dt.date
    trial_day: int
    trial_week: int
    recommendation: str
    recommendation_label: str
    pain_baseline: float | None
    pain_current: float | None
    adherence_pct: float | None
    # Anything prescribed at all: without an adherence figure, the row says why (rehab/numbers).
    has_prescriptions: bool
    last_entry: dt.date | None
    entries_last_7_days: int
    open_alerts: int  # unresolved (open, acknowledged or snoozed); see alerts_by_status
    alerts_by_severity: Mapping[str, int]
    # The worst of the unresolved alerts' severities and today's findings' (docs/alerts.md):
    # an alert resolved by hand while its finding still fires never lowers the urgency.
    worst_severity: str | None
    top_alert: str  # the most urgent alert or finding, in words ("" when there is none)
    # Activity pain of the last SPARKLINE_DAYS days, one slot per day ending on as_of (None: no
    # entry), for the sparkline.
    recent_pain: tuple[int | None, ...]
    alerts_by_status: Mapping[str, int] = field(default_factory=dict)
    # FAAM, the subscale the rules judge function by (Sports, else ADL; docs/questionnaires.md):
    # its baseline and current score when known, and the questionnaires due as of today.
    faam_subscale: str | None = None
    faam_baseline: float | None = None
    faam_current: float | None = None
    questionnaires_due: tuple[str, ...] = ()

    @property
    def faam_subscale_label(self) -> str:
        if self.faam_subscale is None:
            return ""
        return gettext("Sports") if self.faam_subscale == "sports" else gettext("ADL")

    @property
    def questionnaires_due_words(self) -> str:
        """ "FAAM and PSFS due", "PSFS due"; "" when none is."""
        names = [name.upper() for name in self.questionnaires_due]
        if not names:
            return ""
        if len(names) == 1:
            return gettext("%(name)s due") % {"name": names[0]}
        return gettext("%(first)s and %(second)s due") % {"first": names[0], "second": names[1]}

    @property
    def alert_status_words(self) -> str:
        """The unresolved alerts, each status under its own word: "1 open · 1 acknowledged"."""
        words = []
        for status, count in (
            (AlertStatus.OPEN, self.alerts_by_status.get(AlertStatus.OPEN, 0)),
            (AlertStatus.ACKNOWLEDGED, self.alerts_by_status.get(AlertStatus.ACKNOWLEDGED, 0)),
            (AlertStatus.SNOOZED, self.alerts_by_status.get(AlertStatus.SNOOZED, 0)),
        ):
            if not count:
                continue
            if status == AlertStatus.OPEN:
                text = ngettext("%(count)d open", "%(count)d open", count)
            elif status == AlertStatus.ACKNOWLEDGED:
                text = ngettext("%(count)d acknowledged", "%(count)d acknowledged", count)
            else:
                text = ngettext("%(count)d snoozed", "%(count)d snoozed", count)
            words.append(text % {"count": count})
        return " · ".join(words)

    @property
    def sparkline(self) -> Svg:
        # Drawn when the template asks: only the rows of the page shown pay for their picture.
        return pain_slots_sparkline(self.recent_pain)

    @property
    def worst_severity_label(self) -> str:
        return str(SEVERITY_LABELS.get(self.worst_severity or "", ""))

    @property
    def urgency(self) -> int:
        return URGENCY.index(self.worst_severity) if self.worst_severity else len(URGENCY)

    @property
    def trial_started(self) -> bool:
        return self.trial_day >= 1


@dataclass(frozen=True)
class Caseload:
    # The rows of the page shown, most urgent first.
    rows: list[CaseloadRow]
    filters: CaseloadFilters
    # Active episodes in reach before any filter: the page tells "none at all" from "none match".
    total: int
    therapists: list[tuple[str, str]] = field(default_factory=list)
    # The page shown; its paginator counts the episodes that match the filters.
    page: Page[Any] | None = None

    @property
    def matched(self) -> int:
        return self.page.paginator.count if self.page is not None else len(self.rows)

    @property
    def recommendation_choices(self) -> tuple[tuple[str, str], ...]:
        # The words in the language of the request (the labels are lazy).
        return tuple((code, str(label)) for code, label in RECOMMENDATION_CHOICES)

    @property
    def severity_choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((code, str(label)) for code, label in SEVERITY_CHOICES)


def _name(first: str, last: str, email: str) -> str:
    # The same words as User.get_full_name, without loading the User.
    return f"{first} {last}".strip() or email


class _CountedPaginator(Paginator):
    """A paginator given its count (from the page's one counting query) instead of asking the
    database again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _unresolved_alerts() -> QuerySet[Alert]:
    return Alert.objects.filter(episode_id=OuterRef("pk")).exclude(status=AlertStatus.RESOLVED)


def caseload(
    *,
    user: AnyUser,
    filters: CaseloadFilters | None = None,
    now: dt.datetime | None = None,
    page: int | str | None = 1,
    page_size: int = PAGE_SIZE,
) -> Caseload:
    """One page of the caller's caseload, most urgent first.

    A fixed number of queries whatever the caseload's size (see the module's text).
    """
    filters = filters or CaseloadFilters()
    if not can_manage_patients(user):
        return Caseload(rows=[], filters=filters, total=0)
    assert isinstance(user, User)
    now = now or timezone.now()

    in_reach = scope_to_patients(
        user, Episode.objects.filter(status=EpisodeStatus.ACTIVE), via="patient"
    )
    # The filters, as one condition: on the patient, then on the stored row and the alerts.
    shown_q = Q()
    if filters.therapist == UNASSIGNED:
        shown_q &= Q(patient__therapist__isnull=True)
    elif filters.therapist:
        shown_q &= Q(patient__therapist_id=int(filters.therapist))
    if filters.q:
        # Name, email, initials ("GL") or "G. Liu" (rehab/search.py).
        shown_q &= patient_search(filters.q, prefix="patient__user__")
    # A row is stored for every listed episode once the stale ones are computed; one created a
    # moment ago, between that and this read, shows on the next view.
    matching_q = shown_q & Q(current_evaluation__isnull=False)
    if filters.recommendation:
        matching_q &= Q(current_evaluation__recommendation=filters.recommendation)
    if filters.severity == NO_ALERTS:
        matching_q &= ~Q(Exists(_unresolved_alerts()))
    elif filters.severity:
        matching_q &= Q(Exists(_unresolved_alerts().filter(severity=filters.severity)))

    # One pass over the episodes in reach: how many there are, how many match, and how many
    # of the listed ones have a stale stored row (usually none: the evaluations keep them
    # current; rehab.read_model). Stale rows are computed before anything is shown.
    def counts() -> dict[str, int]:
        return in_reach.aggregate(
            total=Count("pk"),
            matched=Count("pk", filter=matching_q),
            stale=Count("pk", filter=shown_q & stale_evaluation(now)),
        )

    counted = counts()
    if counted["stale"]:
        refresh_stale_evaluations(in_reach.filter(shown_q), now=now)
        counted = counts()

    # Triage follows the worse of the unresolved alerts and today's findings (docs/alerts.md),
    # stored on the row (``urgency``): a finding whose alert was resolved by hand, or not raised
    # yet, still sets it, and resolving an alert updates it at once (read_model.alerts_changed).
    # Then the furthest in the trial, then by name; all four columns of one index
    # (``evaluation_triage``), so a large clinic's first page is read in order.
    ordered_ids = (
        in_reach.filter(matching_q)
        .order_by(
            "current_evaluation__urgency",
            "-current_evaluation__trial_day",
            "current_evaluation__sort_name",
            "pk",
        )
        .values_list("pk", flat=True)
    )
    paginator = _CountedPaginator(ordered_ids, page_size, count=counted["matched"])
    episodes_shown: Page[Any] = paginator.get_page(page)
    page_ids = list(episodes_shown.object_list)
    by_id = Episode.objects.select_related(
        "current_evaluation", "patient__user", "patient__therapist"
    ).in_bulk(page_ids)
    rows = _rows([by_id[pk] for pk in page_ids if pk in by_id])
    # The same page (number, paginator, count) holding the rows drawn instead of the episodes.
    shown: Page[Any] = Page(rows, episodes_shown.number, episodes_shown.paginator)

    therapists = (
        [
            (str(pk), _name(first, last, email))
            for pk, first, last, email in therapists_in_clinic(user)
            .order_by("last_name", "first_name", "id")
            .values_list("pk", "first_name", "last_name", "email")
        ]
        if user.is_clinic_admin
        else []
    )
    total = counted["total"]
    return Caseload(rows=rows, filters=filters, total=total, therapists=therapists, page=shown)


def _rows(episodes: list[Episode]) -> list[CaseloadRow]:
    """The page's rows, from the stored evaluations and the episodes' unresolved alerts."""
    alerts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    statuses: dict[int, dict[str, int]] = defaultdict(dict)
    if episodes:
        for episode_id, severity, code, status in (
            Alert.objects.filter(episode_id__in=[e.pk for e in episodes])
            .exclude(status=AlertStatus.RESOLVED)
            .values_list("episode_id", "severity", "code", "status")
            .order_by()
        ):
            alerts[episode_id].append((severity, code))
            statuses[episode_id][status] = statuses[episode_id].get(status, 0) + 1
    return [
        _row(episode, alerts.get(episode.pk, []), statuses.get(episode.pk, {}))
        for episode in episodes
    ]


def _row(episode: Episode, alerts: list[tuple[str, str]], statuses: dict[str, int]) -> CaseloadRow:
    stored: EpisodeEvaluation = episode.current_evaluation
    patient = episode.patient
    unresolved = sorted(alerts, key=alert_order)
    by_severity: dict[str, int] = {}
    for severity, _ in unresolved:
        by_severity[severity] = by_severity.get(severity, 0) + 1
    alert_codes = {code for _, code in unresolved}
    findings = [(severity, code) for severity, code in stored.alert_findings]
    # The same urgency as the SQL's order: the worse of the alerts' and the findings'.
    worst = min([*unresolved[:1], *findings[:1]], key=alert_order, default=None)
    if worst is None:
        top = ""
    elif worst[1] in alert_codes:
        top = code_label(worst[1])
    else:
        # The finding's own alert may be resolved or not raised yet; an alert of another
        # finding, as urgent, would have been named above.
        top = gettext("%(label)s (found today; no unresolved alert)") % {
            "label": code_label(worst[1])
        }
    therapist = patient.therapist
    return CaseloadRow(
        episode_id=episode.pk,
        patient_id=patient.pk,
        patient_name=_name(patient.user.first_name, patient.user.last_name, patient.user.email),
        affected_side=str(_SIDES.get(episode.affected_side, episode.affected_side)),
        therapist_name=(
            _name(therapist.first_name, therapist.last_name, therapist.email)
            if therapist is not None
            else None
        ),
        has_prescriptions=stored.has_prescriptions,
        start_date=episode.start_date,
        as_of=stored.as_of,
        trial_day=stored.trial_day,
        trial_week=stored.trial_week,
        recommendation=stored.recommendation,
        recommendation_label=RECOMMENDATION_LABELS.get(
            stored.recommendation, stored.recommendation
        ),
        pain_baseline=stored.pain_baseline,
        pain_current=stored.pain_current,
        adherence_pct=stored.adherence_pct,
        last_entry=stored.last_entry,
        entries_last_7_days=stored.entries_last_7_days,
        open_alerts=len(unresolved),
        alerts_by_severity=by_severity,
        worst_severity=worst[0] if worst else None,
        top_alert=top,
        alerts_by_status=statuses,
        faam_subscale=stored.faam_subscale or None,
        faam_baseline=stored.faam_baseline,
        faam_current=stored.faam_current,
        questionnaires_due=tuple(stored.questionnaires_due),
        recent_pain=tuple(stored.recent_pain),
    )
