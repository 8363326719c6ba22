"""The patient's questionnaires on the phone: FAAM and PSFS (docs/patient-pages.md,
"Questionnaires"; clinical-rules.md, "Function").

- ``/questionnaires/``: what is due, what is done (the thank-you after sending);
- ``/questionnaires/faam/`` and ``/questionnaires/psfs/``: the forms. Without JavaScript each is
  one plain form posted here; with it (static/js/questionnaire.js) FAAM shows one item per screen,
  the answers are kept on the phone as they are given, and Send goes through the offline queue to
  ``POST /api/v1/episodes/{id}/questionnaire-responses/``.

Views stay thin: the forms parse, ``rehab.questionnaire_pages`` reads, the service
(``rehab.questionnaires.questionnaire_response_record``) checks and writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Patient, User
from rehab import offline, questionnaire_pages, selectors
from rehab.function_scores import FAAM_ADL_QUESTION, FAAM_ANSWERS, NA, PSFS_ACTIVITY_MAX_LENGTH
from rehab.models import Episode
from rehab.questionnaire_forms import DATE_FIELD, FAAM_CHOICE_VALUES, FaamForm, PsfsForm
from rehab.questionnaires import questionnaire_response_record
from rehab.views import _chosen_episode, _closed_diary_page, _patient_or_404

FAAM_SUBSCALES = ("adl", "sports")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    return user


def _with_episode(url: str, episode: Episode, episodes: list[Episode]) -> str:
    # Only a patient with several active episodes needs to say which one (as the diary does).
    return f"{url}?episode={episode.pk}" if len(episodes) > 1 else url


def _episode_or_page(
    request: HttpRequest, patient: Patient
) -> tuple[Episode, list[Episode]] | HttpResponse:
    """The active episode the questionnaires are for, or the page that says there is none."""
    closed = _closed_diary_page(request, patient)
    if closed is not None:
        return closed
    episode, episodes = _chosen_episode(request, patient)
    if episode is None:
        past = list(patient.episodes.order_by("-start_date", "-id"))
        return render(request, "patient/no_episode.html", {"past_episodes": past})
    return episode, episodes


def faam_answer_labels() -> dict[str, str]:
    """The six answers in the patient's language, best first (FAAM, Martin et al. 2005): the
    published wording, with N/A said in full on a phone."""
    labels = {str(value): gettext(text) for value, text in FAAM_ANSWERS.items() if value != NA}
    # Translators: the FAAM answer N/A ("not applicable"): something other than the foot or
    # ankle limits the activity.
    labels[NA] = gettext("N/A: not because of my ankle")
    return labels


def questionnaire_api_url(episode: Episode) -> str:
    """``/api/v1/episodes/{id}/questionnaire-responses/`` (api-contract.md, "Questionnaires")."""
    return reverse("api-questionnaire-response-list", args=[episode.pk])


def thanks_message(instrument: str, *, created: bool) -> str:
    if instrument == "faam":
        if created:
            return gettext("Thank you! Your answers about daily activities and sport are saved.")
        return gettext("Thank you! Your answers about daily activities and sport are updated.")
    if created:
        return gettext("Thank you! Your activities and their ratings are saved.")
    return gettext("Thank you! Your activities and their ratings are updated.")


@login_required
@require_GET
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    """What is due and what is done; after sending, the thank-you and what comes next."""
    patient = _patient_or_404(request)
    found = _episode_or_page(request, patient)
    if isinstance(found, HttpResponse):
        return found
    episode, episodes = found
    today = patient.local_today()
    view = questionnaire_pages.overview(episode=episode, today=today)
    # The phone's script sends through the API and then opens this page with ?saved=<instrument>:
    # the same words as after a form POST (like the diary's ?saved=).
    saved = request.GET.get("saved")
    if saved in questionnaire_pages.INSTRUMENTS:
        status = next(s for s in view.statuses if s.instrument == saved)
        if status.latest is not None:
            messages.success(request, thanks_message(saved, created=True))
    rows = [
        {
            "status": status,
            "url": _with_episode(
                reverse("patient-questionnaire", args=[status.instrument]), episode, episodes
            ),
            "minutes": questionnaire_pages.MINUTES[status.instrument],
        }
        for status in view.statuses
    ]
    return render(
        request,
        "patient/questionnaires.html",
        {
            "overview": view,
            "rows": rows,
            "episode": episode,
            "today_url": _with_episode(reverse("home"), episode, episodes),
        },
    )


def _refused_day(opened_for: dt.date | str | None, *, episode: Episode, today: dt.date) -> bool:
    """A posted day that cannot be filed: unreadable, in the future, before the start, or older
    than the diary's editable week (an old page kept open for days)."""
    if opened_for is None:
        return False
    if isinstance(opened_for, str):
        return True
    return opened_for not in selectors.editable_dates(episode=episode, today=today)


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_page(request: HttpRequest, instrument: str) -> HttpResponse:
    """One questionnaire's form for today (the day is fixed when the form opens)."""
    if instrument not in questionnaire_pages.INSTRUMENTS:
        raise Http404("No such questionnaire.")
    patient = _patient_or_404(request)
    found = _episode_or_page(request, patient)
    if isinstance(found, HttpResponse):
        return found
    episode, episodes = found
    today = patient.local_today()
    day = today
    status = 200
    form: FaamForm | PsfsForm
    psfs = (
        questionnaire_pages.psfs_start(episode=episode, day=today) if instrument == "psfs" else None
    )
    if request.method == "POST":
        form = (
            FaamForm(request.POST)
            if instrument == "faam"
            else PsfsForm(request.POST, fixed=psfs.fixed if psfs else ())
        )
        opened_for = form.opened_for()
        if _refused_day(opened_for, episode=episode, today=today):
            # Nothing is lost: the answers come back filled in, for today, to send again.
            form.is_valid()
            form.add_error(
                None,
                gettext(
                    "This page was opened too long ago to be filed under its day. Your answers "
                    "are below: press Send to file them under today."
                ),
            )
        elif form.is_valid():
            if isinstance(opened_for, dt.date):
                day = opened_for
            try:
                _response, created = questionnaire_response_record(
                    actor=_user(request),
                    episode=episode,
                    instrument=instrument,
                    date=day,
                    **(
                        {"answers": form.answers()}
                        if isinstance(form, FaamForm)
                        else {"activities": form.activities()}
                    ),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, thanks_message(instrument, created=created))
                return redirect(_with_episode(reverse("patient-questionnaires"), episode, episodes))
        status = 400
    elif instrument == "faam":
        form = FaamForm(initial=questionnaire_pages.faam_initial(episode=episode, day=today))
    else:
        form = PsfsForm(initial=psfs.initial if psfs else {}, fixed=psfs.fixed if psfs else ())
    context: dict[str, Any] = {
        "form": form,
        "episode": episode,
        "instrument": instrument,
        "day": day,
        "date_field": DATE_FIELD,
        "action_url": _with_episode(
            reverse("patient-questionnaire", args=[instrument]), episode, episodes
        ),
        "done_url": _with_episode(reverse("patient-questionnaires"), episode, episodes),
        "api_url": questionnaire_api_url(episode),
        "trial_day": selectors.trial_day(episode=episode, today=day),
        "changing": questionnaire_pages.response_on(episode=episode, instrument=instrument, day=day)
        is not None,
        "error_links": _error_links(form),
    }
    if isinstance(form, FaamForm):
        context["question"] = gettext(FAAM_ADL_QUESTION)
        context["sections"] = _faam_sections(form)
        context["item_count"] = len(form.items)
        template = "patient/faam.html"
    else:
        context["psfs_rows"] = _psfs_rows(form)
        context["fixed_since"] = psfs.fixed_since if psfs else None
        context["activity_max_length"] = PSFS_ACTIVITY_MAX_LENGTH
        template = "patient/psfs.html"
    response = render(request, template, context, status=status)
    if request.method == "GET":
        # The patient's own form may be kept on their phone to open offline (rehab/offline.py).
        response[offline.OFFLINE_COPY_HEADER] = "1"
    return response


def _value(form: FaamForm | PsfsForm, name: str) -> str:
    value = form[name].value()
    return "" if value is None else str(value)


def _faam_sections(form: FaamForm) -> list[dict[str, Any]]:
    labels = faam_answer_labels()
    sections: list[dict[str, Any]] = []
    position = 0
    for subscale in FAAM_SUBSCALES:
        items = []
        for item in form.items:
            if item.subscale != subscale:
                continue
            position += 1
            current = _value(form, item.link_id)
            items.append(
                {
                    "link_id": item.link_id,
                    "position": position,
                    "text": gettext(item.text),
                    "errors": form[item.link_id].errors,
                    "choices": [
                        {"value": value, "label": labels[value], "checked": value == current}
                        for value in FAAM_CHOICE_VALUES
                    ],
                }
            )
        sections.append(
            {
                "subscale": subscale,
                "title": gettext("Daily activities") if subscale == "adl" else gettext("Sports"),
                "items": items,
            }
        )
    return sections


def _psfs_rows(form: PsfsForm) -> list[dict[str, Any]]:
    rows = []
    for row in form.rows():
        activity_name, score_name = f"activity_{row}", f"score_{row}"
        current = _value(form, score_name)
        fixed = form.fixed[row - 1] if form.fixed else None
        rows.append(
            {
                "number": row,
                "activity_name": activity_name,
                "score_name": score_name,
                "activity": fixed if fixed is not None else _value(form, activity_name),
                "fixed": fixed is not None,
                "activity_errors": form[activity_name].errors,
                "score_errors": form[score_name].errors,
                "scale": [{"value": n, "checked": str(n) == current} for n in range(11)],
            }
        )
    return rows


def _error_links(form: FaamForm | PsfsForm) -> list[dict[str, str]]:
    """One link per field error, to the control it concerns (the first radio of a group)."""
    if not form.is_bound:
        return []
    links = []
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        field = form.fields[name]
        if isinstance(form, FaamForm):
            label = next(
                (gettext(i.text) for i in form.items if i.link_id == name), str(field.label)
            )
            anchor = f"id_{name}_0"
        else:
            label = str(field.label or "")
            anchor = f"id_{name}_0" if name.startswith("score_") else f"id_{name}"
        for error in errors:
            links.append({"href": f"#{anchor}", "text": str(error), "label": label})
    return links
