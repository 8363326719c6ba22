"""The triaged caseload: every active episode in reach, the most urgent first.

A therapist's home page (a clinic admin's: the whole clinic) must cost the same few queries for
5 patients or 1,000, so nothing here reads per row:

1. the episodes with their patient and therapist, as rows keyed by field name (``values``);
2. the unresolved alerts, counted per episode and severity (one aggregate);
3. the rules' inputs for all listed episodes at once (``rehab.rule_inputs.read_rule_inputs``, the
   reader the nightly evaluation uses too): entries, exercise logs, prescriptions and
   interventions, one query each, restricted to the listed episodes by a subquery;
4. the clinic's thresholds, once.

Then each row's ``Evaluation`` is computed in Python by ``rehab.rules.evaluate`` on plain data,
as of the patient's own today (the date their diary is in), worked out from the time zone
without a query. The sparkline is drawn from the same entry tuples: building a whole
``CourseSeries`` per row (7-day means, weekly adherence) would cost more than the rest of the
page at 1,000 rows for numbers the sparkline never shows; it draws the same activity scores as
``CourseSeries.pain``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts.models import User
from accounts.scoping import AnyUser, can_manage_patients, scope_to_patients, therapists_in_clinic
from rehab import rules
from rehab.bulk import cyclic_gc_paused
from rehab.evaluation import thresholds_for_clinic
from rehab.models import (
    Alert,
    AlertStatus,
    Episode,
    EpisodeStatus,
    Side,
)
from rehab.rule_inputs import EPISODE_RULE_FIELDS, episode_row, read_rule_inputs
from rehab.search import normalise, patient_search
from rehab.vocabulary import RECOMMENDATION_LABELS, SEVERITY_LABELS, code_label
from reports.sparkline import SPARKLINE_DAYS, Svg, pain_sparkline

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Most urgent first: an unresolved critical alert, then high, then warning, then none.
URGENCY = (rules.CRITICAL, rules.HIGH, rules.WARNING)
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
    # (date, activity pain) of the last SPARKLINE_DAYS days, for the sparkline.
    recent_pain: tuple[tuple[dt.date, int], ...]
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
        return pain_sparkline(self.recent_pain, as_of=self.as_of, days=SPARKLINE_DAYS)

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
    rows: list[CaseloadRow]
    filters: CaseloadFilters
    # Active episodes in reach before any filter: the page tells "none at all" from "none match".
    total: int
    therapists: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recommendation_choices(self) -> tuple[tuple[str, str], ...]:
        # The words in the language of the request (the labels are lazy).
        return tuple((code, str(label)) for code, label in RECOMMENDATION_CHOICES)

    @property
    def severity_choices(self) -> tuple[tuple[str, str], ...]:
        return tuple((code, str(label)) for code, label in SEVERITY_CHOICES)


_CODE_ORDER = {code: n for n, code in enumerate(rules.FINDING_SEVERITY)}


def _alert_order(alert: tuple[str, str]) -> tuple[int, int]:
    # Most urgent first; within a severity, the spec's order of findings.
    severity, code = alert
    rank = URGENCY.index(severity) if severity in URGENCY else len(URGENCY)
    return rank, _CODE_ORDER.get(code, len(_CODE_ORDER))


def _name(first: str, last: str, email: str) -> str:
    # The same words as User.get_full_name, without loading the User.
    return f"{first} {last}".strip() or email


def caseload(
    *, user: AnyUser, filters: CaseloadFilters | None = None, now: dt.datetime | None = None
) -> Caseload:
    """The caller's caseload, most urgent first; a fixed number of queries whatever its size."""
    filters = filters or CaseloadFilters()
    if not can_manage_patients(user):
        return Caseload(rows=[], filters=filters, total=0)
    assert isinstance(user, User)
    now = now or timezone.now()

    in_reach = scope_to_patients(
        user, Episode.objects.filter(status=EpisodeStatus.ACTIVE), via="patient"
    )
    listed = in_reach
    if filters.therapist == UNASSIGNED:
        listed = listed.filter(patient__therapist__isnull=True)
    elif filters.therapist:
        listed = listed.filter(patient__therapist_id=int(filters.therapist))
    if filters.q:
        # Name, email, initials ("GL") or "G. Liu" (rehab/search.py).
        listed = listed.filter(patient_search(filters.q, prefix="patient__user__"))

    episodes = list(
        listed.values(
            *EPISODE_RULE_FIELDS,
            "patient_id",
            "patient__user__first_name",
            "patient__user__last_name",
            "patient__user__email",
            "patient__timezone",
            "patient__therapist_id",
            "patient__therapist__first_name",
            "patient__therapist__last_name",
            "patient__therapist__email",
            "affected_side",
        )
    )
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
    with cyclic_gc_paused():
        rows = _rows(user, episodes, listed, now) if episodes else []
    if filters.recommendation:
        rows = [r for r in rows if r.recommendation == filters.recommendation]
    if filters.severity == NO_ALERTS:
        rows = [r for r in rows if not r.open_alerts]
    elif filters.severity:
        rows = [r for r in rows if r.alerts_by_severity.get(filters.severity)]
    rows.sort(key=lambda r: (r.urgency, -r.trial_day, r.patient_name.casefold(), r.episode_id))
    narrowed_in_sql = bool(filters.therapist or filters.q)
    total = in_reach.count() if narrowed_in_sql else len(episodes)
    return Caseload(rows=rows, filters=filters, total=total, therapists=therapists)


def _rows(
    user: User, episodes: list[dict[str, Any]], listed: Any, now: dt.datetime
) -> list[CaseloadRow]:
    # Every bulk read below is narrowed by the same (scoped, filtered) episode query, as a
    # subquery: no list of ids travels to the database, however long the caseload.
    ids = Subquery(listed.values("pk"))

    # One row per unresolved alert: at most one per (episode, code), so a handful per episode.
    alerts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    statuses: dict[int, dict[str, int]] = defaultdict(dict)
    for episode_id, severity, code, status in (
        Alert.objects.filter(episode_id__in=ids)
        .exclude(status=AlertStatus.RESOLVED)
        .values_list("episode_id", "severity", "code", "status")
        .order_by()
    ):
        alerts[episode_id].append((severity, code))
        statuses[episode_id][status] = statuses[episode_id].get(status, 0) + 1

    # The rules' inputs of every listed episode: the same bulk reader as the nightly job's.
    inputs = read_rule_inputs(listed)

    thresholds = thresholds_for_clinic(user.clinic_id)
    today_in: dict[str, dt.date] = {}
    rows = []
    for values in episodes:
        episode = episode_row(values)
        episode_id, start_date = episode.id, episode.start_date
        tz = values["patient__timezone"]
        as_of = today_in.get(tz)
        if as_of is None:
            as_of = today_in[tz] = now.astimezone(zoneinfo.ZoneInfo(tz)).date()
        data = inputs.episode_data(episode)
        # Entries after the patient's today (another zone's tomorrow) never count.
        own = [e for e in data.entries if e.date <= as_of]
        first_sparkline_day = as_of - dt.timedelta(days=SPARKLINE_DAYS - 1)
        evaluation = rules.evaluate(data, thresholds, as_of)
        unresolved = sorted(alerts.get(episode_id, ()), key=_alert_order)
        by_severity: dict[str, int] = {}
        for severity, _ in unresolved:
            by_severity[severity] = by_severity.get(severity, 0) + 1
        # Triage follows today's findings as well as the alerts' states: a finding with no
        # unresolved alert (resolved by hand, or not evaluated yet) still sets the urgency.
        alert_codes = {code for _, code in unresolved}
        unalerted = sorted(
            (
                (f.severity, f.code)
                for f in evaluation.findings
                if f.is_alert and f.code not in alert_codes
            ),
            key=_alert_order,
        )
        worst = min([*unresolved[:1], *unalerted[:1]], key=_alert_order, default=None)
        if worst is None:
            top = ""
        elif worst[1] in alert_codes:
            top = code_label(worst[1])
        else:
            top = gettext("%(label)s (found today; no unresolved alert)") % {
                "label": code_label(worst[1])
            }
        metrics = evaluation.metrics
        subscale, faam_baseline, faam_current = faam_shown(metrics)
        rows.append(
            CaseloadRow(
                episode_id=episode_id,
                patient_id=values["patient_id"],
                patient_name=_name(
                    values["patient__user__first_name"],
                    values["patient__user__last_name"],
                    values["patient__user__email"],
                ),
                affected_side=_SIDES.get(values["affected_side"], values["affected_side"]),
                therapist_name=(
                    _name(
                        values["patient__therapist__first_name"],
                        values["patient__therapist__last_name"],
                        values["patient__therapist__email"],
                    )
                    if values["patient__therapist_id"]
                    else None
                ),
                has_prescriptions=bool(data.prescriptions),
                start_date=start_date,
                as_of=as_of,
                trial_day=evaluation.trial_day,
                trial_week=evaluation.trial_week,
                recommendation=evaluation.recommendation,
                recommendation_label=RECOMMENDATION_LABELS.get(
                    evaluation.recommendation, evaluation.recommendation
                ),
                pain_baseline=metrics.pain_baseline,
                pain_current=metrics.pain_current,
                adherence_pct=metrics.adherence_pct,
                last_entry=max((e.date for e in own), default=None),
                entries_last_7_days=metrics.entries_last_7_days,
                open_alerts=len(unresolved),
                alerts_by_severity=by_severity,
                worst_severity=worst[0] if worst else None,
                top_alert=top,
                alerts_by_status=statuses.get(episode_id, {}),
                faam_subscale=subscale,
                faam_baseline=faam_baseline,
                faam_current=faam_current,
                questionnaires_due=tuple(
                    dict.fromkeys(due.instrument for due in evaluation.questionnaires_due)
                ),
                recent_pain=tuple(
                    (e.date, e.pain_activity)
                    for e in own
                    if e.date >= start_date and e.date >= first_sparkline_day
                ),
            )
        )
    return rows


def faam_shown(metrics: rules.Metrics) -> tuple[str | None, float | None, float | None]:
    """The FAAM subscale a caseload row shows, with its baseline and current score: Sports when
    its current score is known, else ADL when that one's is; before any follow-up, the subscale
    with a baseline (Sports first). (None, None, None) before any FAAM."""
    sports = ("sports", metrics.faam_sports_baseline, metrics.faam_sports_current)
    adl = ("adl", metrics.faam_adl_baseline, metrics.faam_adl_current)
    for subscale, baseline, current in (sports, adl):
        if current is not None:
            return subscale, baseline, current
    for subscale, baseline, current in (sports, adl):
        if baseline is not None:
            return subscale, baseline, current
    return None, None, None
