"""Database rows into the rules' input: the one adapter from rows to ``rules.EpisodeData``.

Every reader of the rules goes through here, so they all see an episode the same way: one
episode (``load_episode_data``), a chunk of the nightly job (``rehab.evaluation``), the
therapist's caseload (``reports.caseload``), the clinic's outcomes and the pages whose rows are
already prefetched (``prefetched_episode_data``).

The rows are named (``EpisodeRow``, ``EntryRow``, ``PrescriptionRow``, ``InterventionRow``;
the exercise logs, three rows per entry, as named columns, ``ExerciseLogColumns``): each is read
with the columns its fields name, so a column added to a query cannot shift another one's
meaning. ``RuleInputs.from_rows`` groups them by episode into
the rules' tuples; ``episode_data`` adds an episode's own columns. ``read_rule_inputs`` reads the
rows of any number of episodes in five queries, whatever their number (the fifth: the FAAM and
PSFS responses, ``QuestionnaireRow``, scored exactly from their answers here).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import partial
from itertools import chain
from typing import Any, NamedTuple, TypeVar

from django.db.models import Q, QuerySet, Subquery

from rehab import function_scores, rules
from rehab.bulk import AnyOf, any_of, cyclic_gc_paused
from rehab.models import (
    DailyEntry,
    Episode,
    ExerciseLog,
    Intervention,
    Prescription,
    QuestionnaireResponse,
)


class EpisodeRow(NamedTuple):
    """An episode's own columns that the rules read."""

    id: int
    start_date: dt.date
    status: str
    referral_date: dt.date | None
    intake_pain_activity: int | None
    intake_pf_rom_affected: Decimal | None
    intake_pf_rom_unaffected: Decimal | None
    bmi: Decimal | None


class EntryRow(NamedTuple):
    id: int
    episode_id: int
    date: dt.date
    pain_activity: int
    pain_rest: int | None
    pf_rom_affected: Decimal | None
    pf_rom_unaffected: Decimal | None


class ExerciseLogColumns(NamedTuple):
    """The exercise logs, a sequence per column (the n-th log is the n-th of each).

    Columns rather than a named tuple per row: a night reads 1.4 million logs at 10,000
    episodes, and an object per row would cost a tenth of the night's time.
    """

    entry_id: Sequence[int]
    prescription_id: Sequence[int]
    sets_completed: Sequence[int]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int]]) -> ExerciseLogColumns:
        """The columns of rows read with ``values_list(*ExerciseLogColumns._fields)``."""
        columns = tuple(zip(*rows, strict=True))
        return cls._make(columns) if columns else cls((), (), ())


class PrescriptionRow(NamedTuple):
    id: int
    episode_id: int
    sets: int
    start_date: dt.date
    end_date: dt.date | None


class InterventionRow(NamedTuple):
    episode_id: int
    kind: str
    start_date: dt.date
    end_date: dt.date | None


class QuestionnaireRow(NamedTuple):
    """A FAAM or PSFS response: the rules score it exactly from its answers."""

    episode_id: int
    date: dt.date
    instrument: str
    answers: Any


def questionnaire_score(row: QuestionnaireRow) -> rules.QuestionnaireScore:
    """A stored response as the rules read it: the exact scores of its answers (the stored
    ``score_*`` columns are rounded to 0.1, for display)."""
    if row.instrument == function_scores.FAAM:
        faam = function_scores.faam_exact(row.answers or {})
        return rules.QuestionnaireScore(
            row.date, row.instrument, faam_adl=faam.adl, faam_sports=faam.sports
        )
    ratings = [activity["score"] for activity in row.answers or ()]
    return rules.QuestionnaireScore(
        row.date,
        row.instrument,
        psfs=function_scores.psfs_exact(ratings) if ratings else None,
    )


# The Episode columns behind ``EpisodeRow``, for a query that reads them beside others.
EPISODE_RULE_FIELDS: tuple[str, ...] = EpisodeRow._fields


def degrees(value: Decimal | None) -> Fraction | None:
    """A stored angle (a diary's or the intake's plantar flexion, a Decimal kept to 0.1°) as the
    rules read it: the exact Fraction.

    The one place where a stored range of motion becomes a rules input: every reader passes
    through it, so a change of the stored type changes only this function.
    """
    return None if value is None else Fraction(value)


def episode_row(values: Mapping[str, Any]) -> EpisodeRow:
    """An ``EpisodeRow`` from a row read with ``.values(*EPISODE_RULE_FIELDS, ...)``."""
    return EpisodeRow._make([values[name] for name in EPISODE_RULE_FIELDS])


def episode_row_of(episode: Episode) -> EpisodeRow:
    """An ``EpisodeRow`` from a loaded episode."""
    return EpisodeRow._make([getattr(episode, name) for name in EPISODE_RULE_FIELDS])


@dataclass(frozen=True, slots=True)
class RuleInputs:
    """The diaries, prescriptions and interventions of many episodes, keyed by episode id."""

    entries: Mapping[int, list[rules.EntryData]]
    prescriptions: Mapping[int, list[rules.PrescriptionData]]
    interventions: Mapping[int, list[rules.InterventionData]]
    questionnaires: Mapping[int, list[rules.QuestionnaireScore]] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        *,
        entries: Iterable[EntryRow],
        logs: ExerciseLogColumns,
        prescriptions: Iterable[PrescriptionRow],
        interventions: Iterable[InterventionRow],
        questionnaires: Iterable[QuestionnaireRow] = (),
    ) -> RuleInputs:
        """Group the rows by episode into the rules' tuples, keeping each list's row order.

        The exercise logs are read first: each entry's ``{prescription id: sets}`` map is built in
        that one pass, not per entry later.
        """
        sets_done: dict[int, dict[int, int]] = defaultdict(dict)
        for entry_id, prescription_id, sets_completed in zip(
            logs.entry_id, logs.prescription_id, logs.sets_completed, strict=True
        ):
            sets_done[entry_id][prescription_id] = sets_completed

        by_entry = sets_done.get
        no_sets = rules.NO_SETS
        entry_data = rules.EntryData
        entry_lists: dict[int, list[rules.EntryData]] = defaultdict(list)
        for entry in entries:
            entry_lists[entry.episode_id].append(
                entry_data(
                    entry.date,
                    entry.pain_activity,
                    entry.pain_rest,
                    degrees(entry.pf_rom_affected),
                    degrees(entry.pf_rom_unaffected),
                    by_entry(entry.id, no_sets),
                )
            )

        prescription_lists: dict[int, list[rules.PrescriptionData]] = defaultdict(list)
        for p in prescriptions:
            prescription_lists[p.episode_id].append(
                rules.PrescriptionData(p.id, p.sets, p.start_date, p.end_date)
            )

        intervention_lists: dict[int, list[rules.InterventionData]] = defaultdict(list)
        for i in interventions:
            intervention_lists[i.episode_id].append(
                rules.InterventionData(i.kind, i.start_date, i.end_date)
            )
        questionnaire_lists: dict[int, list[rules.QuestionnaireScore]] = defaultdict(list)
        for q in questionnaires:
            questionnaire_lists[q.episode_id].append(questionnaire_score(q))
        return cls(
            entries=entry_lists,
            prescriptions=prescription_lists,
            interventions=intervention_lists,
            questionnaires=questionnaire_lists,
        )

    def episode_data(self, episode: EpisodeRow) -> rules.EpisodeData:
        """The rules' input for one episode, given its own columns."""
        return rules.EpisodeData(
            start_date=episode.start_date,
            status=episode.status,
            has_referral=episode.referral_date is not None,
            intake_pain_activity=episode.intake_pain_activity,
            intake_pf_rom_affected=degrees(episode.intake_pf_rom_affected),
            intake_pf_rom_unaffected=degrees(episode.intake_pf_rom_unaffected),
            bmi=float(episode.bmi) if episode.bmi is not None else None,
            entries=self.entries.get(episode.id, ()),
            prescriptions=self.prescriptions.get(episode.id, ()),
            interventions=self.interventions.get(episode.id, ()),
            questionnaires=self.questionnaires.get(episode.id, ()),
        )


# --- Reading -----------------------------------------------------------------------------------

Row = TypeVar("Row", bound=tuple[Any, ...])


def _named(row_type: type[Row], rows: QuerySet[Any, Any]) -> Iterator[Row]:
    """The rows of ``values_list(*row_type._fields)`` as ``row_type``, read when first asked for.

    Each database tuple becomes the named row in C (``tuple.__new__``, about 0.15 µs a row, no
    Python frame per row); the query runs on the first ``next``, so the four queries run, and
    their rows are let go, one after the other.
    """
    return chain.from_iterable(_mapped_when_asked(row_type, rows))


def _mapped_when_asked(row_type: type[Row], rows: QuerySet[Any, Any]) -> Iterator[Iterator[Row]]:
    yield map(partial(tuple.__new__, row_type), rows)


def read_rule_inputs(
    episodes: Sequence[int] | QuerySet[Episode], *, until: dt.date | None = None
) -> RuleInputs:
    """Read the rules' inputs of many episodes in five queries, whatever their number.

    ``episodes`` is a list of ids or a queryset of episodes (used as a subquery, so that no list
    of ids travels to the database however long it is). Rows dated after ``until`` are not read:
    the rules would ignore them anyway. Each query is an index-only scan of a covering index
    (docs/performance.md shows the plans): the exercise logs are found through their
    prescriptions, so no join with the entries is needed.
    """
    episode_in: Q | AnyOf
    if isinstance(episodes, QuerySet):
        episode_in = Q(episode_id__in=Subquery(episodes.values("pk")))
    else:
        episode_in = any_of("episode_id", episodes)

    prescription_rows = Prescription.objects.filter(episode_in)
    entry_rows = DailyEntry.objects.filter(episode_in)
    intervention_rows = Intervention.objects.filter(episode_in)
    questionnaire_rows = QuestionnaireResponse.objects.filter(episode_in)
    if until is not None:
        # A prescription starting later is not yet in force; the rules skip it, and its logs.
        prescription_rows = prescription_rows.filter(start_date__lte=until)
        entry_rows = entry_rows.filter(date__lte=until)
        intervention_rows = intervention_rows.filter(start_date__lte=until)
        questionnaire_rows = questionnaire_rows.filter(date__lte=until)
    log_rows = ExerciseLog.objects.filter(
        prescription_id__in=Subquery(prescription_rows.order_by().values("pk"))
    )
    with cyclic_gc_paused():
        return RuleInputs.from_rows(
            prescriptions=_named(
                PrescriptionRow,
                prescription_rows.values_list(*PrescriptionRow._fields).order_by(
                    "episode_id", "start_date", "pk"
                ),
            ),
            logs=ExerciseLogColumns.from_rows(
                log_rows.values_list(*ExerciseLogColumns._fields).order_by()
            ),
            entries=_named(EntryRow, entry_rows.values_list(*EntryRow._fields).order_by()),
            interventions=_named(
                InterventionRow,
                intervention_rows.values_list(*InterventionRow._fields).order_by(
                    "episode_id", "start_date", "pk"
                ),
            ),
            questionnaires=_named(
                QuestionnaireRow,
                questionnaire_rows.values_list(*QuestionnaireRow._fields).order_by(
                    "episode_id", "date", "instrument"
                ),
            ),
        )


def load_episode_data(episode: Episode, *, as_of: dt.date) -> rules.EpisodeData:
    """Read one episode's data in five queries, whatever its length.

    Rows dated after ``as_of`` are not even read: they never count.
    """
    return read_rule_inputs([episode.pk], until=as_of).episode_data(episode_row_of(episode))


def prefetched_episode_data(episode: Episode, *, as_of: dt.date) -> rules.EpisodeData:
    """The rules' input of an episode whose entries (with their exercise logs), prescriptions,
    interventions and questionnaire responses are prefetched (pages that show the rows too):
    no query.

    The same rows as ``load_episode_data`` reads: nothing dated after ``as_of``.
    """
    entries = [e for e in episode.entries.all() if e.date <= as_of]
    prescriptions = [p for p in episode.prescriptions.all() if p.start_date <= as_of]
    in_force = {p.pk for p in prescriptions}
    logs = [log for e in entries for log in e.exercises.all() if log.prescription_id in in_force]
    inputs = RuleInputs.from_rows(
        entries=[_row_of(EntryRow, e) for e in entries],
        logs=ExerciseLogColumns(
            entry_id=[log.entry_id for log in logs],
            prescription_id=[log.prescription_id for log in logs],
            sets_completed=[log.sets_completed for log in logs],
        ),
        prescriptions=[_row_of(PrescriptionRow, p) for p in prescriptions],
        interventions=[
            _row_of(InterventionRow, i)
            for i in episode.interventions.all()
            if i.start_date <= as_of
        ],
        questionnaires=[
            _row_of(QuestionnaireRow, q)
            for q in episode.questionnaire_responses.all()
            if q.date <= as_of
        ],
    )
    return inputs.episode_data(episode_row_of(episode))


def _row_of(row_type: type[Row], instance: Any) -> Row:
    """A named row from a model instance whose attributes bear the row's field names."""
    return row_type._make(getattr(instance, name) for name in row_type._fields)  # type: ignore[attr-defined]
