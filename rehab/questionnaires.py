"""Recording the function questionnaires, FAAM and PSFS (docs/questionnaires.md).

One write, ``questionnaire_response_record``: it validates everything first (a 400 naming each
bad item, ``answers.adl-3`` or ``activities[1].score``), then creates or replaces the day's
response of that instrument in one transaction with its audit row, and asks for the episode to
be evaluated again, as a diary entry does. The scoring itself is ``rehab.function_scores``.

Who may write follows the diary: the patient for their own active episode; staff in reach on
their behalf; once the episode is referred or closed, the patient is refused
(``DiaryClosedError``, the API's 409) and staff must give a reason, kept as a
``RecordCorrection`` with the old and new answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from rehab import function_scores
from rehab.corrections import record_correction
from rehab.free_text import Errors, check_text
from rehab.function_scores import (
    FAAM,
    FAAM_ITEM_MAX,
    FAAM_ITEM_MIN,
    FAAM_ITEMS_BY_LINK_ID,
    INSTRUMENTS,
    NA,
    PSFS,
    PSFS_ACTIVITY_MAX_LENGTH,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
    PSFS_SCORE_MAX,
    PSFS_SCORE_MIN,
)
from rehab.models import Episode, EpisodeStatus, QuestionnaireResponse, RecordAction
from rehab.services import _audit, _check_clinical_date, _diary_write_check, _request_evaluation

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(errors: Errors, value: dt.date | str | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    if value is None or value == "":
        errors.add("date", _("This field is required."))
    else:
        errors.add("date", _("Use a real calendar date written YYYY-MM-DD."))
    return None


def _whole(value: Any) -> int | None:
    """An integer, or a JSON number with an integral value (7.0); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    return None


def _faam_answers(errors: Errors, answers: Any) -> dict[str, int | str]:
    """FAAM answers as stored: {link_id: 0–4 | "na"} in the form's order, blanks left out."""
    if not isinstance(answers, Mapping):
        errors.add(
            "answers",
            _('Send an object of FAAM items, for example {"adl-1": 4, "sports-1": "na"}.'),
        )
        return {}
    given: dict[str, int | str] = {}
    for link_id, raw in answers.items():
        field = f"answers.{link_id}"
        if link_id not in FAAM_ITEMS_BY_LINK_ID:
            errors.add(
                field,
                _("Not a FAAM item: use adl-1 … adl-21 and sports-1 … sports-8."),
            )
            continue
        if raw is None:
            continue  # a blank item, as if left out
        if raw == NA:
            given[link_id] = NA
            continue
        value = _whole(raw)
        if value is None or not FAAM_ITEM_MIN <= value <= FAAM_ITEM_MAX:
            errors.add(
                field,
                _('Answer with a whole number from %(low)s to %(high)s, or "na".')
                % {"low": FAAM_ITEM_MIN, "high": FAAM_ITEM_MAX},
            )
            continue
        given[link_id] = value
    return {item: given[item] for item in FAAM_ITEMS_BY_LINK_ID if item in given}


def _psfs_activities(errors: Errors, activities: Any) -> list[dict[str, Any]]:
    """PSFS activities as stored: [{"activity": text, "score": 0–10}], 1–5 of them."""
    if not isinstance(activities, list | tuple):
        errors.add(
            "activities",
            _('Send a list of activities, for example [{"activity": "Jumping", "score": 4}].'),
        )
        return []
    if not PSFS_MIN_ACTIVITIES <= len(activities) <= PSFS_MAX_ACTIVITIES:
        errors.add(
            "activities",
            _("Name from %(low)s to %(high)s activities (got %(count)s).")
            % {"low": PSFS_MIN_ACTIVITIES, "high": PSFS_MAX_ACTIVITIES, "count": len(activities)},
        )
        return []
    result: list[dict[str, Any]] = []
    for index, item in enumerate(activities):
        prefix = f"activities[{index}]"
        if not isinstance(item, Mapping):
            errors.add(prefix, _("Must be an object with activity and score."))
            continue
        text = check_text(
            errors, f"{prefix}.activity", item.get("activity"), max_length=PSFS_ACTIVITY_MAX_LENGTH
        )
        if not text and f"{prefix}.activity" not in errors:
            errors.add(f"{prefix}.activity", _("Name the activity."))
        score = _whole(item.get("score"))
        if score is None or not PSFS_SCORE_MIN <= score <= PSFS_SCORE_MAX:
            errors.add(
                f"{prefix}.score",
                _("Rate it with a whole number from %(low)s (unable) to %(high)s (as before).")
                % {"low": PSFS_SCORE_MIN, "high": PSFS_SCORE_MAX},
            )
            continue
        for name in item:
            if name not in ("activity", "score"):
                errors.add(f"{prefix}.{name}", _("Unknown field."))
        result.append({"activity": text, "score": score})
    return result


def _stored(value: Fraction | None) -> Decimal | None:
    """An exact score as stored: rounded to 0.1, halves away from zero."""
    return None if value is None else Decimal(str(function_scores.round_score(value)))


def questionnaire_response_record(
    *,
    actor: User,
    episode: Episode,
    instrument: str,
    date: dt.date | str,
    answers: Mapping[str, Any] | None = None,
    activities: Sequence[Mapping[str, Any]] | None = None,
    reason: str = "",
) -> tuple[QuestionnaireResponse, bool]:
    """Create or replace the ``instrument`` response of ``episode`` for ``date``; returns it and
    whether it was created (posting again the same day replaces it).

    FAAM takes ``answers`` ({link_id: 0–4 | "na"}; items left out are blank), PSFS takes
    ``activities`` ([{"activity", "score": 0–10}], 1–5). The date must lie between the
    episode's start and the patient's local today. Everything is validated before anything is
    written (``ValidationError`` naming each field), so a bad request leaves the stored response
    as it was. The caller has already checked the episode is in the actor's reach.
    """
    errors = Errors()
    correction_reason = _diary_write_check(errors, actor=actor, episode=episode, reason=reason)
    day = _parse_date(errors, date)
    _check_clinical_date(errors, "date", day, episode=episode)
    stored_answers: Any
    scores: dict[str, Decimal | None]
    if instrument == FAAM:
        if activities is not None:
            errors.add("activities", _("The FAAM takes answers, not activities."))
        stored_answers = _faam_answers(errors, {} if answers is None else answers)
        if answers is None or (
            isinstance(answers, Mapping) and all(v is None for v in answers.values())
        ):
            errors.add("answers", _("Answer at least one item."))
        # Only valid answers are kept, so this is the score of what would be stored.
        exact = function_scores.faam_exact(stored_answers)
        scores = {
            "score_adl": _stored(exact.adl),
            "score_sports": _stored(exact.sports),
            "score_psfs": None,
        }
    elif instrument == PSFS:
        if answers is not None:
            errors.add("answers", _("The PSFS takes activities, not answers."))
        stored_answers = _psfs_activities(errors, activities)
        ratings = [activity["score"] for activity in stored_answers]
        scores = {
            "score_adl": None,
            "score_sports": None,
            # Without a valid rating there is nothing to score (and the errors say why).
            "score_psfs": _stored(function_scores.psfs_exact(ratings)) if ratings else None,
        }
    else:
        errors.add(
            "instrument",
            _("Must be one of: %(choices)s.") % {"choices": ", ".join(INSTRUMENTS)},
        )
        stored_answers, scores = None, {}
    errors.raise_if_any()
    assert day is not None

    write = functools.partial(
        _write,
        actor=actor,
        episode=episode,
        instrument=instrument,
        date=day,
        answers=stored_answers,
        scores=scores,
        correction_reason=correction_reason,
    )
    try:
        return write()
    except IntegrityError:
        # Another request inserted the day's response between our read and our insert: it
        # exists now, so this write replaces it.
        return write()


def _write(
    *,
    actor: User,
    episode: Episode,
    instrument: str,
    date: dt.date,
    answers: Any,
    scores: Mapping[str, Decimal | None],
    correction_reason: str | None,
) -> tuple[QuestionnaireResponse, bool]:
    now = timezone.now()
    with transaction.atomic():
        response = (
            QuestionnaireResponse.objects.select_for_update()
            .filter(episode=episode, instrument=instrument, date=date)
            .first()
        )
        old_answers = None if response is None else response.answers
        created = response is None
        if response is None:
            response = QuestionnaireResponse(
                episode=episode,
                instrument=instrument,
                date=date,
                created_at=now,
            )
        response.answers = answers
        for name, value in scores.items():
            setattr(response, name, value)
        response.recorded_by = actor
        response.updated_at = now
        if created:
            response.save(force_insert=True)
        else:
            response.save()
        _audit(
            actor,
            "questionnaire_response.created" if created else "questionnaire_response.replaced",
            response,
            episode,
        )
        if correction_reason is not None and episode.status != EpisodeStatus.ACTIVE:
            record_correction(
                actor=actor,
                episode=episode,
                obj=response,
                action=RecordAction.CHANGED,
                reason=correction_reason,
                old_values=None if old_answers is None else {"answers": old_answers},
                new_values={"answers": answers},
            )
        _request_evaluation(episode, now)
    return response, created
