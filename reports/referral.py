"""The referral report of one episode: what a receiving surgeon needs, in one read.

One ``ReferralReport`` feeds both the printable page and the PDF, so the two always say the
same thing. It is a clinical document: only clinic staff in reach get it (a patient gets a 404,
like anybody out of reach).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import AnyUser, can_manage_patients, get_in_reach_or_404
from rehab import numbers, rules
from rehab.evaluation import thresholds_for_clinic
from rehab.finding_text import finding_message
from rehab.models import Episode, EpisodeStatus, Intervention, Prescription
from rehab.rule_inputs import load_episode_data
from rehab.templatetags.alerts import evidence_items
from rehab.vocabulary import RECOMMENDATION_LABELS, SEVERITY_LABELS, code_label
from reports.course import Course
from reports.l10n import day_month_year, local_decimal
from reports.series import ADL, SPORTS, FunctionSeries, course_series
from reports.sources import Source, sources_for

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DISCLAIMER = gettext_lazy(
    "This report is produced by decision-support software. It supports, and does not replace, "
    "clinical judgement: the referral decision stays with the clinician."
)


@dataclass(frozen=True)
class ReportFinding:
    code: str
    label: str
    severity: str
    severity_label: str
    message: str
    evidence: list[tuple[str, str]]
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class TimelineItem:
    label: str
    date: dt.date
    day: int
    # "past" (on or before the report's date), "planned" (after it, the trial going on), or
    # "not_reached" (after the trial ended by referral or closure).
    state: str
    note: str = ""


@dataclass(frozen=True)
class MetricRow:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Reason:
    """Why the patient is referred, first and in plain words: one sentence with the numbers,
    then the supporting facts (function, adherence, the two ankles, the therapist's note)."""

    headline: str
    details: list[str]
    # "Reason for referral" when there is one (the rules' referral finding, or a referral made);
    # "Summary" for a letter printed while the rules do not call for one.
    title: str = ""


@dataclass(frozen=True)
class ReferralReport:
    episode: Episode
    patient_name: str
    clinic_name: str
    therapist_name: str
    # Who is referred (name, date of birth, sex, the clinic's record number when recorded), by
    # whom (the therapist, their role, the clinic and how to reach them) and to whom.
    patient_facts: list[tuple[str, str]]
    sender_lines: list[str]
    recipient: str
    reason: Reason
    as_of: dt.date
    # Why the report stands on ``as_of`` (today, the referral date, the closing date).
    as_of_note: str
    course: Course
    recommendation_label: str
    findings: list[ReportFinding]
    timeline: list[TimelineItem]
    metrics: list[MetricRow]
    prescriptions: list[Prescription]
    interventions: list[Intervention]
    generated_at: dt.datetime
    ruleset: str
    disclaimer: StrOrPromise = DISCLAIMER

    @property
    def evaluation(self) -> rules.Evaluation:
        return self.course.evaluation

    @property
    def side_label(self) -> str:
        return self.episode.get_affected_side_display()

    @property
    def filename(self) -> str:
        return f"referral-episode-{self.episode.pk}-{self.generated_at.date():%Y-%m-%d}.pdf"


def _staff_episode(user: AnyUser, episode_id: int) -> Episode:
    # A patient reaches their own episode elsewhere, but not its referral letter: 404, as for
    # anything they cannot open, so the answer reveals nothing.
    if not can_manage_patients(user):
        raise Http404("Not found.")
    return get_in_reach_or_404(
        user,
        Episode.objects.select_related("patient__user__clinic", "patient__therapist"),
        via="patient",
        pk=episode_id,
    )


def report_date(episode: Episode, today: dt.date) -> tuple[dt.date, str, bool]:
    """The date the report stands on, why, and whether it shows the trial as it was referred.

    A referral letter documents the course that led to the referral, so a referred episode is
    reported as of its referral date; a closed one as of its closing date; an active one today.
    """
    if episode.referral_date is not None:
        as_of = min(episode.referral_date, today)
        return as_of, gettext("the date of referral"), True
    if episode.status == EpisodeStatus.CLOSED and episode.closed_date is not None:
        return min(episode.closed_date, today), gettext("the date the episode was closed"), False
    return today, gettext("today"), False


def report_course(*, episode: Episode, as_of: dt.date, at_referral: bool) -> Course:
    """The rules' evaluation and the drawable series, as ``reports.course.episode_course``.

    ``at_referral``: the rules give a referred episode no referral finding (the referral is
    done), but the letter must show the findings that supported it. So the trial is evaluated
    as it stood on the referral date, before the referral was recorded; the report says so.
    """
    thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
    data = load_episode_data(episode, as_of=as_of)
    if at_referral:
        data = dataclasses.replace(data, status=EpisodeStatus.ACTIVE, has_referral=False)
    evaluation = rules.evaluate(data, thresholds, as_of)
    series = course_series(
        data,
        thresholds,
        as_of,
        baseline=evaluation.metrics.pain_baseline,
        rom_reference=evaluation.metrics.rom_reference,
        pain_current=evaluation.metrics.pain_current,
        pain_change=evaluation.metrics.pain_change,
        metrics=evaluation.metrics,
    )
    return Course(episode=episode, evaluation=evaluation, series=series, thresholds=thresholds)


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return gettext("unknown")
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return f"{local_decimal(text)}{unit}"


def _metrics(course: Course, episode: Episode) -> list[MetricRow]:
    m = course.evaluation.metrics
    t = course.thresholds
    baseline_note = ""
    if m.pain_baseline is not None:
        week1 = sum(1 for p in course.series.pain if p.day <= 7)
        baseline_note = (
            gettext("mean of week 1")
            if week1 >= t.min_entries_per_week
            else gettext("intake score (week 1 had too few entries)")
        )
    # The same figures, rounded and worded as on the episode page (rehab/numbers.py).
    change = numbers.pain_change(m.pain_change, m.pain_change_pct)
    target = course.series.mcid_target
    important = {
        "points": _num(t.mcid_points),
        "percent": _num(t.mcid_percent, "%", 0),
        "target": numbers.pain_of_ten(target),
    }
    if target is not None:
        important_note = (
            gettext("important from %(points)s points and %(percent)s; target %(target)s or less")
            % important
        )
    else:
        important_note = gettext("important from %(points)s points and %(percent)s") % important
    rows = [
        MetricRow(
            gettext("Baseline pain during activity"),
            numbers.pain_of_ten(m.pain_baseline),
            baseline_note,
        ),
        MetricRow(
            gettext("Current pain during activity"),
            numbers.pain_of_ten(m.pain_current),
            gettext("mean of the 7 days to %(day)s") % {"day": day_month_year(course.series.as_of)},
        ),
        MetricRow(gettext("Change (current − baseline)"), change, important_note),
        # Function beside pain (clinical-rules.md, "Function"): the patient's own report of what
        # the ankle lets them do, the seed's second reason to refer.
        *_function_rows(course),
        MetricRow(
            gettext("Exercise adherence"),
            numbers.adherence(m.adherence_pct, has_prescriptions=course.series.has_prescriptions),
            gettext("prescribed sets done on the days logged; adequate from %(minimum)s")
            % {"minimum": _num(t.adherence_min_percent, "%", 0)},
        ),
        MetricRow(gettext("Entries in the last 7 days"), str(m.entries_last_7_days)),
        MetricRow(gettext("Plantar flexion, week 1 (affected)"), numbers.degrees(m.rom_week1)),
        MetricRow(gettext("Plantar flexion, current (affected)"), numbers.degrees(m.rom_current)),
        MetricRow(
            gettext("Plantar flexion, reference (healthy side)"),
            numbers.degrees(m.rom_reference),
            gettext("mean of all healthy-side measurements") if m.rom_reference is not None else "",
        ),
        MetricRow(
            gettext("Plantar flexion deficit"),
            numbers.degrees(m.rom_deficit),
            gettext("notable from %(degrees)s") % {"degrees": _num(t.rom_deficit_deg, "°")},
        ),
    ]
    if episode.bmi is not None:
        rows.append(MetricRow(gettext("BMI"), local_decimal(f"{episode.bmi}")))
    return rows


def _score_value(baseline: float | None, current: float | None, change: float | None) -> str:
    """ "28.1 → 31.3 (+3.2 points)"; the baseline alone while there is no later score."""
    if baseline is None:
        return gettext("not answered")
    if current is None:
        return gettext("%(baseline)s (baseline)") % {"baseline": numbers.score(baseline)}
    return gettext("%(baseline)s to %(current)s (%(change)s)") % {
        "baseline": numbers.score(baseline),
        "current": numbers.score(current),
        "change": numbers.score_change(change),
    }


def _score_note(function: FunctionSeries, attr: str, *, mcid: float, judged: bool = False) -> str:
    first, last = function.anchors(attr)
    parts = []
    if first is not None:
        if last is not None:
            parts.append(
                gettext("baseline day %(first)s, latest day %(last)s")
                % {"first": first.day, "last": last.day}
            )
        else:
            parts.append(gettext("baseline day %(first)s") % {"first": first.day})
    parts.append(gettext("important from +%(mcid)s points") % {"mcid": numbers.number(mcid)})
    if judged:
        parts.append(gettext("the subscale the function finding judges"))
    return "; ".join(parts)


def _function_rows(course: Course) -> list[MetricRow]:
    """FAAM ADL, FAAM Sports and PSFS from baseline to the latest score; one row saying none
    was answered when there is no baseline at all."""
    function = course.series.function
    if function is None or not function.known:
        return [
            MetricRow(
                gettext("Function (FAAM, PSFS)"),
                gettext("not answered"),
                gettext("no questionnaire answered up to this date"),
            )
        ]
    judged = function.judged_subscale
    return [
        MetricRow(
            gettext("Function: FAAM ADL (0–100)"),
            _score_value(
                function.faam_adl_baseline, function.faam_adl_current, function.faam_adl_change
            ),
            _score_note(function, "faam_adl", mcid=function.faam_adl_mcid, judged=judged == ADL),
        ),
        MetricRow(
            gettext("Function: FAAM Sports (0–100)"),
            _score_value(
                function.faam_sports_baseline,
                function.faam_sports_current,
                function.faam_sports_change,
            ),
            _score_note(
                function, "faam_sports", mcid=function.faam_sports_mcid, judged=judged == SPORTS
            ),
        ),
        MetricRow(
            gettext("Function: PSFS (0–10)"),
            _score_value(function.psfs_baseline, function.psfs_current, function.psfs_change),
            _score_note(function, "psfs", mcid=function.psfs_mcid),
        ),
    ]


def _timeline(episode: Episode, course: Course) -> list[TimelineItem]:
    series = course.series
    as_of = series.as_of
    t = course.thresholds

    ended = episode.referral_date or episode.closed_date

    def item(label: str, date: dt.date, note: str = "") -> TimelineItem:
        if date <= as_of:
            state = "past"
        elif ended is not None and ended < date:
            state = "not_reached"
        else:
            state = "planned"
        return TimelineItem(
            label=label, date=date, day=series.trial_day(date), state=state, note=note
        )

    items = [
        item(gettext("Start of the conservative trial"), episode.start_date),
        item(
            gettext("Reassessment (review day)"),
            series.review_date,
            gettext("day %(day)s: referral is considered if the pain has not improved")
            % {"day": t.review_day},
        ),
        item(
            gettext("Referral due at the latest"),
            series.overdue_date,
            gettext("day %(day)s: a stalled trial is overdue for referral")
            % {"day": t.overdue_day},
        ),
    ]
    if episode.referral_date is not None:
        referred = (
            gettext("referred to %(to)s") % {"to": episode.referred_to}
            if episode.referred_to
            else gettext("referred")
        )
        items.append(item(gettext("Referred"), episode.referral_date, referred))
    if episode.closed_date is not None:
        outcome = str(episode.get_outcome_display()).lower()
        items.append(
            item(
                gettext("Closed"),
                episode.closed_date,
                gettext("outcome: %(outcome)s") % {"outcome": outcome},
            )
        )
    if episode.status == EpisodeStatus.ACTIVE:
        items.append(item(gettext("This report"), as_of, gettext("the course up to this date")))
    return sorted(items, key=lambda i: (i.date, i.label))


def _findings(findings: Sequence[rules.Finding]) -> list[ReportFinding]:
    return [
        ReportFinding(
            code=f.code,
            label=code_label(f.code),
            severity=f.severity,
            severity_label=str(SEVERITY_LABELS.get(f.severity, f.severity)),
            message=finding_message(f, for_reading=True),
            evidence=evidence_items(f.evidence),
            sources=sources_for(f.code),
        )
        for f in findings
    ]


# The sexes a clinic may record (FHIR administrative gender), in words.
SEX_LABELS: dict[str, StrOrPromise] = {
    "male": pgettext_lazy("sex", "Male"),
    "female": pgettext_lazy("sex", "Female"),
    "other": pgettext_lazy("sex", "Other"),
    "unknown": pgettext_lazy("sex", "Unknown"),
}


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _patient_facts(episode: Episode, as_of: dt.date) -> list[tuple[str, str]]:
    """Who is referred: what a receiving office needs to match the patient in its own record.
    Date of birth, sex and the record number are shown when the clinic recorded them (read with
    getattr: the fields arrive with the patient identifiers)."""
    patient = episode.patient
    facts = [(gettext("Name"), patient.user.get_full_name())]
    born = getattr(patient, "birth_date", None)
    if isinstance(born, dt.date):
        facts.append(
            (
                gettext("Date of birth"),
                gettext("%(date)s (age %(age)s)")
                % {"date": day_month_year(born), "age": _age(born, as_of)},
            )
        )
    sex = getattr(patient, "sex", None)
    if sex:
        facts.append((gettext("Sex"), str(SEX_LABELS.get(str(sex), str(sex)))))
    mrn = getattr(patient, "mrn", None)
    if mrn:
        facts.append((gettext("Clinic record number"), str(mrn)))
    facts += [
        (
            gettext("Affected side"),
            gettext("%(side)s ankle") % {"side": episode.get_affected_side_display()},
        ),
        (
            gettext("Diagnosis"),
            gettext("Posterior ankle impingement: %(diagnosis)s")
            % {"diagnosis": str(episode.get_diagnosis_display()).lower()},
        ),
    ]
    return facts


def _sender_lines(therapist: User | None, clinic_name: str) -> list[str]:
    """By whom: the treating therapist, their role, the clinic, and how to reach them."""
    if therapist is None:
        return [gettext("No treating therapist assigned"), clinic_name]
    lines = [therapist.get_full_name() or therapist.email]
    if therapist.role:
        lines.append(str(therapist.get_role_display()))
    if clinic_name:
        lines.append(clinic_name)
    lines.append(therapist.email)
    return [line for line in lines if line]


def _pain_course(metrics: rules.Metrics, target: float | None) -> str:
    """ "6.9 → 6.6 (−4%), target ≤ 4.8": activity pain from the baseline to the last 7 days."""
    if metrics.pain_baseline is None or metrics.pain_current is None:
        return gettext("baseline %(baseline)s, last 7 days %(current)s") % {
            "baseline": numbers.pain_of_ten(metrics.pain_baseline),
            "current": numbers.pain_of_ten(metrics.pain_current),
        }
    text = gettext("%(baseline)s → %(current)s") % {
        "baseline": numbers.pain(metrics.pain_baseline),
        "current": numbers.pain(metrics.pain_current),
    }
    if metrics.pain_change_pct is not None:
        # The rules count a fall as positive; shown as it reads, a fall with a minus.
        text += f" ({numbers.signed(-metrics.pain_change_pct, 0)}%)"
    if target is not None:
        text += ", " + gettext("target ≤ %(target)s") % {"target": numbers.pain(target)}
    return text


def _reason(*, episode: Episode, course: Course) -> Reason:
    """Why the patient is referred, in plain words with the numbers (the rules' referral
    finding when there is one; otherwise what the rules say and the therapist's judgement)."""
    ev = course.evaluation
    m = ev.metrics
    t = course.thresholds
    codes = {f.code for f in ev.findings}
    pain = _pain_course(m, course.series.mcid_target)
    adherent = m.adherence_pct is not None and m.adherence_pct >= t.adherence_min_percent
    weeks = max(ev.trial_day, 0) // 7
    if codes & {rules.REFERRAL_CONSIDER, rules.REFERRAL_OVERDUE}:
        if adherent:
            template = ngettext(
                "No clinically important improvement in activity pain after %(weeks)s week of "
                "adherent conservative care: %(pain)s.",
                "No clinically important improvement in activity pain after %(weeks)s weeks of "
                "adherent conservative care: %(pain)s.",
                weeks,
            )
        else:
            template = ngettext(
                "No clinically important improvement in activity pain after %(weeks)s week of "
                "conservative care: %(pain)s.",
                "No clinically important improvement in activity pain after %(weeks)s weeks of "
                "conservative care: %(pain)s.",
                weeks,
            )
        headline = template % {"weeks": weeks, "pain": pain}
    elif rules.PAIN_WORSENING in codes:
        headline = gettext("Activity pain is getting worse during conservative care: %(pain)s.") % {
            "pain": pain
        }
    else:
        recommendation = str(RECOMMENDATION_LABELS.get(ev.recommendation, ev.recommendation))
        if episode.referral_date is not None:
            template = gettext(
                "Referred on the therapist's clinical judgement; the rules did not call for a "
                "referral at the time (%(recommendation)s). Activity pain: %(pain)s."
            )
        else:
            template = gettext(
                "The rules do not call for a referral at this date (%(recommendation)s). "
                "Activity pain: %(pain)s."
            )
        headline = template % {"recommendation": recommendation.lower(), "pain": pain}
    details: list[str] = []
    if rules.REFERRAL_OVERDUE in codes:
        details.append(
            gettext(
                "Day %(day)s of the trial: past day %(overdue)s, by which a trial that has not "
                "helped should be referred."
            )
            % {"day": ev.trial_day, "overdue": t.overdue_day}
        )
    function = _function_reason(course)
    if function:
        details.append(function)
    details.append(
        gettext("Exercise adherence: %(adherence)s (adequate from %(minimum)s).")
        % {
            "adherence": numbers.adherence(
                m.adherence_pct, has_prescriptions=course.series.has_prescriptions
            ),
            "minimum": numbers.percent(t.adherence_min_percent),
        }
    )
    if m.rom_current is not None and m.rom_reference is not None:
        details.append(
            gettext(
                "Plantar flexion: %(current)s on the affected side, %(reference)s on the other "
                "side."
            )
            % {
                "current": numbers.degrees(m.rom_current),
                "reference": numbers.degrees(m.rom_reference),
            }
        )
    if episode.referral_note:
        details.append(gettext("Therapist's note: %(note)s") % {"note": episode.referral_note})
    referring = bool(
        codes & {rules.REFERRAL_CONSIDER, rules.REFERRAL_OVERDUE, rules.PAIN_WORSENING}
    )
    title = (
        gettext("Reason for referral")
        if referring or episode.referral_date is not None
        else gettext("Summary")
    )
    return Reason(headline=headline, details=details, title=title)


def _function_reason(course: Course) -> str:
    """The FAAM subscale the function finding judges, from its first to its latest score."""
    function = course.series.function
    if function is None or not function.known:
        return gettext("Function questionnaires (FAAM, PSFS): none answered yet.")
    for label, baseline, current, change, mcid in (
        (
            gettext("FAAM Sports"),
            function.faam_sports_baseline,
            function.faam_sports_current,
            function.faam_sports_change,
            function.faam_sports_mcid,
        ),
        (
            gettext("FAAM ADL"),
            function.faam_adl_baseline,
            function.faam_adl_current,
            function.faam_adl_change,
            function.faam_adl_mcid,
        ),
    ):
        if baseline is None or current is None or change is None:
            continue
        words = {
            "label": label,
            "baseline": numbers.score(baseline),
            "current": numbers.score(current),
            "change": numbers.score_change(change),
            "mcid": numbers.number(mcid),
        }
        if change >= mcid:
            return (
                gettext(
                    "Function: %(label)s %(baseline)s → %(current)s (%(change)s), an important "
                    "improvement (from +%(mcid)s points)."
                )
                % words
            )
        return (
            gettext(
                "Function: %(label)s %(baseline)s → %(current)s (%(change)s), short of the "
                "+%(mcid)s points that count as an important improvement."
            )
            % words
        )
    return gettext("Function questionnaires (FAAM, PSFS): only a first score so far.")


def referral_report(
    *, user: AnyUser, episode_id: int, now: dt.datetime | None = None
) -> ReferralReport:
    """The report of one episode in the caller's reach (clinic staff only; others get 404)."""
    episode = _staff_episode(user, episode_id)
    now = now or timezone.now()
    as_of, why, at_referral = report_date(episode, episode.patient.local_today())
    course = report_course(episode=episode, as_of=as_of, at_referral=at_referral)
    recommendation = course.evaluation.recommendation
    label = RECOMMENDATION_LABELS.get(recommendation, recommendation)
    if at_referral:
        label = gettext("%(label)s (as the trial stood when the referral was made)") % {
            "label": label
        }
    patient = episode.patient
    therapist = patient.therapist
    clinic_name = patient.user.clinic.name if patient.user.clinic else ""
    return ReferralReport(
        episode=episode,
        patient_name=patient.user.get_full_name(),
        clinic_name=clinic_name,
        therapist_name=therapist.get_full_name() if therapist else gettext("not assigned"),
        patient_facts=_patient_facts(episode, as_of),
        sender_lines=_sender_lines(therapist, clinic_name),
        recipient=episode.referred_to or gettext("The receiving surgeon"),
        reason=_reason(episode=episode, course=course),
        as_of=as_of,
        as_of_note=why,
        course=course,
        recommendation_label=str(label),
        findings=_findings(course.evaluation.findings),
        timeline=_timeline(episode, course),
        metrics=_metrics(course, episode),
        prescriptions=list(Prescription.objects.filter(episode=episode).order_by("start_date")),
        interventions=list(Intervention.objects.filter(episode=episode).order_by("start_date")),
        generated_at=timezone.localtime(now),
        ruleset=course.evaluation.ruleset,
    )


def report_export_record(*, actor: User, report: ReferralReport) -> None:
    """The audit row of a downloaded referral report (identifiers only, never its content)."""
    episode = report.episode
    audit_record(
        actor=actor,
        action="report.exported",
        obj=episode,
        clinic_id=episode.patient.user.clinic_id,
        patient_id=episode.patient_id,
    )
