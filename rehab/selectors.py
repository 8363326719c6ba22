"""The reads that the server-rendered pages need.

Every function here takes the caller and narrows through ``accounts.scoping``, so a page cannot
forget to scope. Each read costs a fixed number of queries whatever the number of rows: related
rows come through ``select_related``/``prefetch_related`` or aggregate annotations, and per-row
figures are computed in Python from data already loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404

from accounts.models import Invitation, Patient, User
from accounts.scoping import (
    AnyUser,
    can_manage_patients,
    get_in_reach_or_404,
    patients_for,
    scope_to_patients,
)
from rehab import rules
from rehab.dates import WINDOW_YEARS, shift_years
from rehab.evaluation import thresholds_for_clinic
from rehab.models import (
    Alert,
    AlertStatus,
    DailyEntry,
    EntryCorrection,
    Episode,
    EpisodeStatus,
    ExerciseLog,
    InboxMessage,
    InboxMessageRead,
    Intervention,
    Prescription,
    PushSubscription,
    QuestionnaireResponse,
    RecordCorrection,
    Severity,
)
from rehab.rule_inputs import prefetched_episode_data
from rehab.search import patient_search

# The version of an entry that a page renders (data-entry-version): the API's ETag.
from rehab.versions import entry_etag as entry_etag
from rehab.vocabulary import RECOMMENDATION_LABELS

# A patient may correct today and the six days before it from the phone pages: the same 7-day
# window the progress rules read as "the last 7 days". Older corrections go through the
# therapist, so a week-1 baseline cannot quietly change weeks later.
EDIT_WINDOW_DAYS = 7


def editable_dates(*, episode: Episode, today: dt.date) -> list[dt.date]:
    """The dates a patient may log or correct, newest first (never before the episode start)."""
    first = max(episode.start_date, today - dt.timedelta(days=EDIT_WINDOW_DAYS - 1))
    return [today - dt.timedelta(days=n) for n in range((today - first).days + 1)]


def trial_day(*, episode: Episode, today: dt.date) -> int:
    """Day 1 is the episode's start date (clinical-rules.md, "Trial day")."""
    return (today - episode.start_date).days + 1


# --- The patient's own pages ---------------------------------------------------------------------


def patient_of(user: AnyUser) -> Patient | None:
    """The patient record of a signed-in patient, or None for everybody else."""
    if not isinstance(user, User) or not user.is_patient:
        return None
    return patients_for(user).first()


def patient_active_episodes(*, patient: Patient) -> list[Episode]:
    """Active episodes, the most recently started first (the default one to log against)."""
    return list(
        Episode.objects.filter(patient=patient, status=EpisodeStatus.ACTIVE)
        .select_related("patient__user")
        .order_by("-start_date", "-id")
    )


@dataclass(frozen=True)
class DayLink:
    date: dt.date
    logged: bool


@dataclass(frozen=True)
class ExerciseRow:
    prescription: Prescription
    sets_completed: int | None


@dataclass(frozen=True)
class EntryFormData:
    episode: Episode
    date: dt.date
    today: dt.date
    entry: DailyEntry | None
    exercises: list[ExerciseRow]
    recent_days: list[DayLink]


def entry_form_data(*, episode: Episode, date: dt.date, today: dt.date) -> EntryFormData:
    """What the entry form for one date shows: the saved entry, the exercises due, the week."""
    prescriptions = [
        p
        for p in Prescription.objects.filter(episode=episode)
        .select_related("exercise")
        .order_by("start_date", "id")
        if p.is_active_on(date)
    ]
    window = editable_dates(episode=episode, today=today)
    entries = {
        e.date: e
        for e in DailyEntry.objects.filter(
            episode=episode, date__in={date, *window}
        ).prefetch_related("exercises")
    }
    entry = entries.get(date)
    done = (
        {log.prescription_id: log.sets_completed for log in entry.exercises.all()} if entry else {}
    )
    return EntryFormData(
        episode=episode,
        date=date,
        today=today,
        entry=entry,
        exercises=[
            ExerciseRow(prescription=p, sets_completed=done.get(p.pk)) for p in prescriptions
        ],
        recent_days=[DayLink(date=d, logged=d in entries) for d in window],
    )


# --- Episode history (patient and staff) ---------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    entry: DailyEntry
    sets_done: int
    sets_prescribed: int
    exercises: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def has_exercises(self) -> bool:
        return self.sets_prescribed > 0


def _history_rows(episode: Episode) -> list[HistoryRow]:
    # Both lists come from prefetches made by the caller: no query per entry.
    prescriptions = list(episode.prescriptions.all())
    rows: list[HistoryRow] = []
    for entry in episode.entries.all():
        done = {log.prescription_id: log.sets_completed for log in entry.exercises.all()}
        items = [
            (p.name, done.get(p.pk, 0), p.sets) for p in prescriptions if p.is_active_on(entry.date)
        ]
        rows.append(
            HistoryRow(
                entry=entry,
                # Sets beyond the prescription do not make up for another exercise (adherence).
                sets_done=sum(min(d, s) for _, d, s in items),
                sets_prescribed=sum(s for _, _, s in items),
                exercises=items,
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryGap:
    """Days in a row with no entry (newest first in the list, so ``last`` comes before
    ``first``). ``fillable`` are those the patient may still log (the editable window)."""

    first: dt.date
    last: dt.date
    fillable: list[dt.date]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def history_with_gaps(
    *, episode: Episode, rows: list[HistoryRow], today: dt.date
) -> list[HistoryRow | HistoryGap]:
    """The history newest first, with each run of missed days as one gap between entries.

    Missed means a day of the programme, from its start to yesterday (today is not over) or to
    the referral or closing date, with no entry. Pure: reads the rows already loaded.
    """
    end = today - dt.timedelta(days=1)
    if episode.status != EpisodeStatus.ACTIVE:
        end = min(end, episode.closed_date or episode.referral_date or end)
    window = (
        set(editable_dates(episode=episode, today=today))
        if episode.status == EpisodeStatus.ACTIVE
        else set()
    )
    logged = {row.entry.date: row for row in rows}
    items: list[HistoryRow | HistoryGap] = []
    run: list[dt.date] = []  # missed days, newest first

    def close_run() -> None:
        if run:
            items.append(
                HistoryGap(first=run[-1], last=run[0], fillable=[d for d in run if d in window])
            )
            run.clear()

    # Entries after the end (today's, or one made on the closing day) come first as they are.
    later = sorted((d for d in logged if d > end), reverse=True)
    items.extend(logged[d] for d in later)
    # Never walk more than the clinical window back (rehab.dates), whatever the start says.
    first = max(episode.start_date, shift_years(end, -WINDOW_YEARS))
    for ordinal in range(end.toordinal(), first.toordinal() - 1, -1):
        day = dt.date.fromordinal(ordinal)
        if day in logged:
            close_run()
            items.append(logged[day])
        else:
            run.append(day)
    close_run()
    items.extend(logged[d] for d in sorted((d for d in logged if d < first), reverse=True))
    return items


def _episode_with_history() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient__user", "patient__therapist").prefetch_related(
        Prefetch("prescriptions", queryset=Prescription.objects.order_by("start_date", "id")),
        Prefetch(
            "entries",
            queryset=DailyEntry.objects.order_by("-date").prefetch_related(
                Prefetch("exercises", queryset=ExerciseLog.objects.order_by("prescription_id"))
            ),
        ),
        "interventions",
        Prefetch(
            "questionnaire_responses",
            queryset=QuestionnaireResponse.objects.order_by("date", "instrument", "id"),
        ),
    )


@dataclass(frozen=True)
class EpisodeDetail:
    episode: Episode
    history: list[HistoryRow]


def episode_detail_for(*, user: AnyUser, episode_id: int) -> EpisodeDetail:
    """One episode in the caller's reach with its entries, prescriptions and interventions."""
    episode = get_in_reach_or_404(user, _episode_with_history(), via="patient", pk=episode_id)
    return EpisodeDetail(episode=episode, history=_history_rows(episode))


def episode_in_reach(*, user: AnyUser, episode_id: int) -> Episode:
    return get_in_reach_or_404(
        user, Episode.objects.select_related("patient__user"), via="patient", pk=episode_id
    )


# --- Therapist and clinic admin pages ------------------------------------------------------------


def patient_rows(*, user: AnyUser, q: str = "") -> QuerySet[Patient]:
    """Patients in reach with how many episodes they have and how many are active, whether they
    are still invited (no password set yet) and their latest episode's status; narrowed by the
    search ``q`` (a name, email, initials or "G. Liu": rehab/search.py)."""
    rows = patients_for(user).annotate(
        episode_count=Count("episodes"),
        active_count=Count("episodes", filter=Q(episodes__status=EpisodeStatus.ACTIVE)),
        # An invited patient's password is unusable ("!…") until they accept the invitation.
        invited=Case(
            When(user__password__startswith=UNUSABLE_PASSWORD_PREFIX, then=Value(True)),
            default=Value(False),
        ),
        latest_status=Subquery(
            Episode.objects.filter(patient=OuterRef("pk"))
            .order_by("-start_date", "-id")
            .values("status")[:1]
        ),
    )
    if q:
        rows = rows.filter(patient_search(q, prefix="user__"))
    return rows.order_by("user__last_name", "user__first_name", "pk")


@dataclass(frozen=True)
class PatientDetail:
    patient: Patient
    episodes: list[Episode]
    has_password: bool
    # When the newest unused invitation link was opened, if it was: staff see that somebody
    # opened it and has not set a password (a link opened by somebody else must not go unnoticed).
    invitation_opened_at: dt.datetime | None = None


def patient_detail_for(*, user: AnyUser, patient_id: int) -> PatientDetail:
    patient = get_in_reach_or_404(
        user,
        Patient.objects.select_related("user", "therapist").prefetch_related(
            Prefetch("episodes", queryset=Episode.objects.order_by("-start_date", "-id"))
        ),
        via="",
        pk=patient_id,
    )
    return PatientDetail(
        patient=patient,
        episodes=list(patient.episodes.all()),
        has_password=patient.user.has_usable_password(),
        invitation_opened_at=Invitation.objects.filter(user=patient.user, used_at__isnull=True)
        .order_by("-created_at")
        .values_list("opened_at", flat=True)
        .first(),
    )


# --- Progress and alerts (staff pages) -----------------------------------------------------------

# Most severe first on every alert list.
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.WARNING, Severity.INFO)

# Inbox tabs: "unresolved" (the default) is open + acknowledged + snoozed.
INBOX_TABS = ("unresolved", "open", "acknowledged", "snoozed", "resolved")
INBOX_PAGE_SIZE = 50
INBOX_NOTIFICATIONS = 10


def _severity_rank() -> Case:
    return Case(
        *(When(severity=s, then=Value(n)) for n, s in enumerate(SEVERITY_ORDER)),
        default=Value(len(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )


def alerts_for(user: AnyUser) -> QuerySet[Alert]:
    """The alerts a user may see: their patients' (therapist), the clinic's (admin).

    Patients have no alert role: alerts are the clinic's working list, written for clinicians,
    so a patient reaches none of them, their own included.
    """
    if not can_manage_patients(user):
        return Alert.objects.none()
    return scope_to_patients(
        user,
        Alert.objects.select_related("episode__patient__user", "acknowledged_by", "resolved_by"),
        via="episode__patient",
    )


def alert_in_reach(*, user: AnyUser, alert_id: int, for_update: bool = False) -> Alert:
    """One alert in the caller's reach, or 404; ``for_update`` locks its row (in a transaction)."""
    alerts = alerts_for(user)
    if for_update:
        alerts = alerts.select_for_update(of=("self",))
    try:
        return alerts.get(pk=alert_id)
    except (Alert.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


def open_alert_count(*, user: AnyUser) -> int:
    """The number in the navigation: open alerts in reach (one query)."""
    if not can_manage_patients(user):
        return 0
    return alerts_for(user).filter(status=AlertStatus.OPEN).count()


@dataclass(frozen=True)
class AlertInbox:
    tab: str
    page: Page[Alert]
    counts: dict[str, int]
    notifications: list[InboxMessage]


def alert_inbox(*, user: AnyUser, tab: str, page: int | str | None = 1) -> AlertInbox:
    """The inbox page: one tab of alerts, most severe first, with every tab's count.

    Three queries (counts, a page of alerts, the notifications) plus the paginator's count,
    whatever the number of alerts.
    """
    if tab not in INBOX_TABS:
        raise Http404("No such tab.")
    alerts = alerts_for(user)
    counts = alerts.aggregate(
        unresolved=Count("pk", filter=~Q(status=AlertStatus.RESOLVED)),
        open=Count("pk", filter=Q(status=AlertStatus.OPEN)),
        acknowledged=Count("pk", filter=Q(status=AlertStatus.ACKNOWLEDGED)),
        snoozed=Count("pk", filter=Q(status=AlertStatus.SNOOZED)),
        resolved=Count("pk", filter=Q(status=AlertStatus.RESOLVED)),
    )
    if tab == "unresolved":
        listed = alerts.exclude(status=AlertStatus.RESOLVED)
    else:
        listed = alerts.filter(status=tab)
    if tab == "resolved":
        # The history: newest resolution first.
        listed = listed.order_by("-resolved_at", "-id")
    else:
        listed = listed.annotate(rank=_severity_rank()).order_by("rank", "created_at", "id")
    notifications = list(new_notifications(user=user)[:INBOX_NOTIFICATIONS])
    return AlertInbox(
        tab=tab,
        page=Paginator(listed, INBOX_PAGE_SIZE).get_page(page),
        counts={key: value or 0 for key, value in counts.items()},
        notifications=notifications,
    )


def new_notifications(*, user: AnyUser) -> QuerySet[InboxMessage]:
    """The inbox notifications in reach that ``user`` has not marked read and whose alert is
    not resolved (a resolved alert's notification has nothing left to act on), newest first."""
    if not can_manage_patients(user) or not isinstance(user, User):
        return InboxMessage.objects.none()
    read = InboxMessageRead.objects.filter(message=OuterRef("pk"), user=user)
    return (
        scope_to_patients(
            user,
            InboxMessage.objects.select_related("alert__episode__patient__user"),
            via="alert__episode__patient",
        )
        .exclude(alert__status=AlertStatus.RESOLVED)
        .exclude(Exists(read))
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class EpisodeProgress:
    as_of: dt.date
    evaluation: rules.Evaluation
    recommendation_label: str
    alerts: list[Alert]
    resolved_alerts: list[Alert]
    # Resolved by hand while the finding still fired: shown with the live ones, not folded away.
    suppressing_alerts: list[Alert] = field(default_factory=list)

    @property
    def status_counts(self) -> dict[str, int]:
        """Unresolved alerts by status: "open" is open only (docs/alerts.md, "Counts")."""
        counts = {AlertStatus.OPEN.value: 0, "acknowledged": 0, "snoozed": 0}
        for alert in self.alerts:
            counts[alert.status] = counts.get(alert.status, 0) + 1
        return counts


RESOLVED_ALERTS_SHOWN = 10


def episode_progress_for(*, episode: Episode, as_of: dt.date) -> EpisodeProgress:
    """The rules' verdict and the alerts of an episode loaded by ``episode_detail_for``.

    The entries, exercise logs, prescriptions and interventions are already prefetched, so the
    verdict costs one query (the clinic's thresholds) and the alerts two, whatever the
    episode's length. Read-only, like the progress endpoint.
    """
    data = prefetched_episode_data(episode, as_of=as_of)
    evaluation = rules.evaluate(data, thresholds_for_clinic(episode.patient.user.clinic_id), as_of)
    alerts = Alert.objects.filter(episode=episode).select_related(
        "episode__patient__user", "acknowledged_by", "resolved_by"
    )
    return EpisodeProgress(
        as_of=as_of,
        evaluation=evaluation,
        recommendation_label=RECOMMENDATION_LABELS.get(
            evaluation.recommendation, evaluation.recommendation
        ),
        alerts=list(
            alerts.exclude(status=AlertStatus.RESOLVED)
            .annotate(rank=_severity_rank())
            .order_by("rank", "created_at", "id")
        ),
        resolved_alerts=list(
            alerts.filter(status=AlertStatus.RESOLVED, suppressing=False).order_by(
                "-resolved_at", "-id"
            )[:RESOLVED_ALERTS_SHOWN]
        ),
        suppressing_alerts=list(
            alerts.filter(status=AlertStatus.RESOLVED, suppressing=True).order_by(
                "-resolved_at", "-id"
            )
        ),
    )


# --- The patient's push devices (rehab/reminders) ------------------------------------------------


def push_subscriptions(*, patient: Patient) -> QuerySet[PushSubscription]:
    """The patient's devices that get reminders, oldest first."""
    return PushSubscription.objects.filter(patient=patient).order_by("created_at", "pk")


# --- Corrections of an episode's records (rehab.corrections) -------------------------------------


def intervention_in_reach(*, user: AnyUser, episode_id: int, intervention_id: int) -> Intervention:
    """An intervention of an episode within ``user``'s reach (otherwise 404)."""
    episode = episode_in_reach(user=user, episode_id=episode_id)
    try:
        return Intervention.objects.select_related("episode__patient__user").get(
            episode=episode, pk=intervention_id
        )
    except Intervention.DoesNotExist:
        raise Http404("Not found.") from None


def prescription_in_reach(*, user: AnyUser, episode_id: int, prescription_id: int) -> Prescription:
    """A prescription of an episode within ``user``'s reach (otherwise 404)."""
    episode = episode_in_reach(user=user, episode_id=episode_id)
    try:
        return Prescription.objects.select_related("episode__patient__user").get(
            episode=episode, pk=prescription_id
        )
    except Prescription.DoesNotExist:
        raise Http404("Not found.") from None


@dataclass(frozen=True)
class CorrectionRow:
    """One correction in the episode's history: a record's (``RecordCorrection``) or a diary
    day's after referral or closure (``EntryCorrection``)."""

    corrected_at: dt.datetime
    corrected_by: User | None
    object_type: str  # "intervention", "prescription", "episode", "entry", ...
    object_id: int | None
    action: str
    reason: str
    # (field, old, new) of every value that changed; new is None for a deletion.
    changes: list[tuple[str, object, object]]
    entry_date: dt.date | None = None


def episode_corrections(*, episode: Episode) -> list[CorrectionRow]:
    """Every correction of the episode's records and diary, newest first (two queries)."""
    rows = [
        CorrectionRow(
            corrected_at=c.corrected_at,
            corrected_by=c.corrected_by,
            object_type=c.object_type,
            object_id=c.object_id,
            action=c.action,
            reason=c.reason,
            changes=[
                (name, (c.old_values or {}).get(name), (c.new_values or {}).get(name))
                for name in dict.fromkeys([*(c.old_values or {}), *(c.new_values or {})])
            ],
        )
        for c in RecordCorrection.objects.filter(episode=episode).select_related("corrected_by")
    ]
    rows += [
        CorrectionRow(
            corrected_at=c.corrected_at,
            corrected_by=c.corrected_by,
            object_type="entry",
            object_id=None,
            action=c.action,
            reason=c.reason,
            changes=[],
            entry_date=c.entry_date,
        )
        for c in EntryCorrection.objects.filter(episode=episode).select_related("corrected_by")
    ]
    return sorted(rows, key=lambda row: row.corrected_at, reverse=True)


# --- Function questionnaires (docs/questionnaires.md) ---------------------------------------------


def questionnaire_responses(
    *, episode: Episode, instrument: str | None = None
) -> QuerySet[QuestionnaireResponse]:
    """The episode's FAAM and PSFS responses (or one instrument's), oldest first.

    The caller has fetched ``episode`` within reach (``episode_in_reach``).
    """
    rows = QuestionnaireResponse.objects.filter(episode=episode)
    if instrument is not None:
        rows = rows.filter(instrument=instrument)
    return rows.order_by("date", "instrument", "id")
