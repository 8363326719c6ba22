"""How the clinic's conservative care performs: the clinic outcomes report (clinic admins).

Episodes started in a date range (optionally one therapist's) by outcome, the share resolved
without surgery beside the literature, how long trials ran before referral, which referrals came
after the overdue day, how well patients did their exercises, and how their function (FAAM)
changed by outcome. A fixed number of queries whatever the number of episodes: the episodes,
then the rules' inputs of all of them (``rehab.rule_inputs.read_rule_inputs``); the adherence
and the FAAM scores of every episode are the rules' own figures, computed in Python from those
rows as of the end of its trial.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_noop

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import scope_to_patients
from rehab import numbers, rules
from rehab.evaluation import thresholds_for_clinic
from rehab.models import Episode, EpisodeStatus, Outcome
from rehab.rule_inputs import episode_row_of, read_rule_inputs
from reports.series import function_changes
from reports.sources import SHARE_RESOLVED, Source

# Outcome categories, in the order the report shows them.
RESOLVED = "resolved"
REFERRED = "referred"
ACTIVE = "active"
DISCONTINUED = "discontinued"
# The words are English here (gettext_noop marks them) and translated where a page shows them,
# so the CSV download keeps the same English values whatever the reader's language.
CATEGORIES: dict[str, str] = {
    RESOLVED: gettext_noop("Resolved conservatively"),
    REFERRED: gettext_noop("Referred"),
    ACTIVE: gettext_noop("Active"),
    DISCONTINUED: gettext_noop("Discontinued"),
}

# Adherence bands (fixed, so reports of different clinics and periods compare).
BAND_LOW = "below_50"
BAND_PARTIAL = "50_79"
BAND_ADEQUATE = "80_plus"
BAND_NONE = "none"
BANDS: dict[str, str] = {
    BAND_LOW: gettext_noop("below 50%"),
    BAND_PARTIAL: gettext_noop("50–79%"),
    # xgettext:no-python-format
    BAND_ADEQUATE: gettext_noop("80% or more"),
    BAND_NONE: gettext_noop("nothing prescribed or logged"),
}

# "About 60%": 28 of 46 patients in one series resolved without surgery.
LITERATURE_RESOLVED = 28
LITERATURE_TOTAL = 46


@dataclass(frozen=True)
class EpisodeOutcome:
    episode_id: int
    patient_id: int
    therapist_name: str
    start_date: dt.date
    status: str
    category: str
    referral_date: dt.date | None
    # Trial day of the referral (start date = day 1) and days from the start to it.
    referral_day: int | None
    days_to_referral: int | None
    # Days after the overdue day that the referral came; None when it was not late.
    days_overdue: int | None
    closed_date: dt.date | None
    adherence_pct: float | None
    adherence_band: str
    # The rules' FAAM figures at the end of the trial (rounded to 0.1; None where unknown).
    faam_adl_baseline: float | None = None
    faam_adl_current: float | None = None
    faam_sports_baseline: float | None = None
    faam_sports_current: float | None = None
    # Current minus baseline from the exact scores (reports.series.function_changes).
    faam_adl_change: float | None = None
    faam_sports_change: float | None = None

    @property
    def category_label(self) -> str:
        return gettext(CATEGORIES[self.category])

    @property
    def band_label(self) -> str:
        return gettext(BANDS[self.adherence_band])


@dataclass(frozen=True)
class FaamChange:
    """One FAAM subscale's change from baseline to the end of the trial, over the episodes of
    one outcome that have both scores."""

    known: int  # episodes with a baseline and a later score
    median: float | None
    reached_mcid: int  # of ``known``, how many improved by at least the MCID
    mcid: float

    @property
    def median_words(self) -> str:
        """ "+8.5 points" (rehab/numbers.py); "unknown" without any episode."""
        return numbers.unknown() if self.median is None else numbers.points(self.median)


@dataclass(frozen=True)
class FaamByOutcome:
    category: str
    episodes: int
    adl: FaamChange
    sports: FaamChange

    @property
    def label(self) -> str:
        return gettext(CATEGORIES[self.category])

    @property
    def subscales(self) -> tuple[FaamChange, FaamChange]:
        return self.adl, self.sports


def _faam_change(changes: list[float], mcid: float) -> FaamChange:
    return FaamChange(
        known=len(changes),
        median=round(statistics.median(changes), 1) if changes else None,
        reached_mcid=sum(change >= mcid for change in changes),
        mcid=mcid,
    )


@dataclass(frozen=True)
class OutcomesReport:
    date_from: dt.date | None
    date_to: dt.date | None
    therapist: User | None
    today: dt.date
    overdue_day: int
    rows: list[EpisodeOutcome]
    counts: dict[str, int]
    bands: dict[str, int]
    median_days_to_referral: float | None
    overdue: list[EpisodeOutcome] = field(default_factory=list)
    literature: Source = SHARE_RESOLVED
    faam_by_outcome: list[FaamByOutcome] = field(default_factory=list)

    @property
    def faam_known(self) -> int:
        """Episodes with a FAAM change in either subscale."""
        return sum(
            r.faam_adl_change is not None or r.faam_sports_change is not None for r in self.rows
        )

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def finished(self) -> int:
        """Episodes whose trial has a known result: resolved conservatively or referred.

        Discontinued episodes are left out: nobody knows how they would have ended, and the
        literature's share counts patients followed to a result.
        """
        return self.counts[RESOLVED] + self.counts[REFERRED]

    @property
    def resolved_share(self) -> float | None:
        if not self.finished:
            return None
        return round(self.counts[RESOLVED] * 100 / self.finished, 1)

    @property
    def literature_share(self) -> float:
        return round(LITERATURE_RESOLVED * 100 / LITERATURE_TOTAL, 1)

    @property
    def literature_counts(self) -> tuple[int, int]:
        return LITERATURE_RESOLVED, LITERATURE_TOTAL

    @property
    def category_rows(self) -> list[tuple[str, str, int]]:
        return [(key, gettext(label), self.counts[key]) for key, label in CATEGORIES.items()]

    @property
    def band_rows(self) -> list[tuple[str, str, int]]:
        return [(key, gettext(label), self.bands[key]) for key, label in BANDS.items()]

    @property
    def max_days_overdue(self) -> int | None:
        return max((r.days_overdue or 0 for r in self.overdue), default=None)

    @property
    def median_days_overdue(self) -> float | None:
        late = [r.days_overdue for r in self.overdue if r.days_overdue is not None]
        return statistics.median(late) if late else None


def _category(episode: Episode) -> str:
    # A referral is the trial's result even if the episode was closed afterwards.
    if episode.referral_date is not None or episode.status == EpisodeStatus.REFERRED:
        return REFERRED
    if episode.status == EpisodeStatus.CLOSED:
        return RESOLVED if episode.outcome == Outcome.RESOLVED else DISCONTINUED
    return ACTIVE


def _band(adherence: float | None) -> str:
    # ``adherence`` is the rules' figure rounded to 0.01%. Sets are whole numbers, so an exact
    # share just under a band edge is at least 20/prescribed percent below it: rounding can
    # only carry it over the edge after more than 4000 prescribed sets, far beyond any trial.
    if adherence is None:
        return BAND_NONE
    if adherence < 50:
        return BAND_LOW
    if adherence < 80:
        return BAND_PARTIAL
    return BAND_ADEQUATE


def _trial_end(episode: Episode, today: dt.date) -> dt.date:
    """The date the trial's adherence is judged on: its referral, its closure, or today."""
    if episode.referral_date is not None:
        return episode.referral_date
    if episode.closed_date is not None:
        return episode.closed_date
    return today


def _metrics(
    episodes: QuerySet[Episode], listed: list[Episode], thresholds: rules.Thresholds, today: dt.date
) -> dict[int, tuple[rules.Metrics, dict[str, float | None]]]:
    """Each episode's metrics (adherence, FAAM) as the rules compute them at the end of its
    trial, and its FAAM and PSFS changes, from one bulk read of their inputs."""
    inputs = read_rule_inputs(episodes)
    found = {}
    for episode in listed:
        data = inputs.episode_data(episode_row_of(episode))
        end = _trial_end(episode, today)
        found[episode.pk] = (
            rules.evaluate(data, thresholds, end).metrics,
            function_changes(data, thresholds, end),
        )
    return found


def clinic_outcomes(
    *,
    user: User,
    today: dt.date,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    therapist: User | None = None,
) -> OutcomesReport:
    """The outcomes of the episodes of the caller's clinic started in [date_from, date_to].

    The caller is a clinic admin (the view checks the role); scoping still narrows the episodes
    to the caller's clinic, so nothing else could ever be counted.
    """
    episodes = scope_to_patients(user, Episode.objects.all(), via="patient")
    if date_from is not None:
        episodes = episodes.filter(start_date__gte=date_from)
    if date_to is not None:
        episodes = episodes.filter(start_date__lte=date_to)
    if therapist is not None:
        episodes = episodes.filter(patient__therapist=therapist)
    listed = list(episodes.select_related("patient__therapist").order_by("start_date", "id"))
    thresholds = thresholds_for_clinic(user.clinic_id)
    metrics = _metrics(episodes, listed, thresholds, today)

    rows: list[EpisodeOutcome] = []
    for episode in listed:
        referral_day = days_to_referral = days_overdue = None
        if episode.referral_date is not None:
            days_to_referral = (episode.referral_date - episode.start_date).days
            referral_day = days_to_referral + 1
            if referral_day > thresholds.overdue_day:
                days_overdue = referral_day - thresholds.overdue_day
        therapist_user = episode.patient.therapist
        m, changes = metrics[episode.pk]
        rows.append(
            EpisodeOutcome(
                episode_id=episode.pk,
                patient_id=episode.patient_id,
                therapist_name=therapist_user.get_full_name() if therapist_user else "",
                start_date=episode.start_date,
                status=episode.status,
                category=_category(episode),
                referral_date=episode.referral_date,
                referral_day=referral_day,
                days_to_referral=days_to_referral,
                days_overdue=days_overdue,
                closed_date=episode.closed_date,
                adherence_pct=m.adherence_pct,
                adherence_band=_band(m.adherence_pct),
                faam_adl_baseline=m.faam_adl_baseline,
                faam_adl_current=m.faam_adl_current,
                faam_sports_baseline=m.faam_sports_baseline,
                faam_sports_current=m.faam_sports_current,
                faam_adl_change=changes["faam_adl"],
                faam_sports_change=changes["faam_sports"],
            )
        )
    counts = dict.fromkeys(CATEGORIES, 0)
    bands = dict.fromkeys(BANDS, 0)
    for row in rows:
        counts[row.category] += 1
        bands[row.adherence_band] += 1
    referral_days = [r.days_to_referral for r in rows if r.days_to_referral is not None]
    return OutcomesReport(
        date_from=date_from,
        date_to=date_to,
        therapist=therapist,
        today=today,
        overdue_day=thresholds.overdue_day,
        rows=rows,
        counts=counts,
        bands=bands,
        median_days_to_referral=statistics.median(referral_days) if referral_days else None,
        overdue=[r for r in rows if r.days_overdue is not None],
        faam_by_outcome=[
            FaamByOutcome(
                category=category,
                episodes=counts[category],
                adl=_faam_change(
                    [
                        r.faam_adl_change
                        for r in rows
                        if r.category == category and r.faam_adl_change is not None
                    ],
                    float(thresholds.faam_adl_mcid),
                ),
                sports=_faam_change(
                    [
                        r.faam_sports_change
                        for r in rows
                        if r.category == category and r.faam_sports_change is not None
                    ],
                    float(thresholds.faam_sports_mcid),
                ),
            )
            for category in CATEGORIES
        ],
    )


CSV_HEADER = [
    "episode",
    "patient",
    "therapist",
    "start_date",
    "status",
    "outcome",
    "referral_date",
    "referral_trial_day",
    "days_to_referral",
    "days_overdue",
    "closed_date",
    "adherence_pct",
    "adherence_band",
    "faam_adl_baseline",
    "faam_adl_end",
    "faam_sports_baseline",
    "faam_sports_end",
]


def _csv_score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def outcomes_csv_rows(report: OutcomesReport) -> list[list[object]]:
    """One row per episode; patients appear by id only (the report is about the clinic)."""
    return [
        [
            row.episode_id,
            row.patient_id,
            row.therapist_name,
            row.start_date.isoformat(),
            row.status,
            row.category,
            row.referral_date.isoformat() if row.referral_date else "",
            row.referral_day if row.referral_day is not None else "",
            row.days_to_referral if row.days_to_referral is not None else "",
            row.days_overdue if row.days_overdue is not None else "",
            row.closed_date.isoformat() if row.closed_date else "",
            "" if row.adherence_pct is None else f"{row.adherence_pct:g}",
            BANDS[row.adherence_band],  # English, as the other CSV values
            _csv_score(row.faam_adl_baseline),
            _csv_score(row.faam_adl_current),
            _csv_score(row.faam_sports_baseline),
            _csv_score(row.faam_sports_current),
        ]
        for row in report.rows
    ]


def outcomes_export_record(*, actor: User) -> None:
    assert actor.clinic is not None
    audit_record(actor=actor, action="outcomes.exported", obj=actor.clinic)
