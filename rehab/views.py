"""Server-rendered pages: the patient's phone diary and the plain therapist pages.

Views stay thin: parse a form, read through ``rehab.selectors``, write through the services.
Reach comes first (anything out of reach is a 404 via ``accounts.scoping``); a role that may not
act on an object within reach gets a 403.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import audit_read
from accounts.forms import PatientCreateForm, PatientIdentifiersForm
from accounts.models import Patient, User
from accounts.scoping import can_manage_patients
from accounts.services import (
    IssuedInvitation,
    invitation_issue,
    patient_create,
    patient_identifiers_update,
)
from accounts.services import patient_password_reset as services_patient_password_reset
from accounts.throttling import LockedOut
from rehab import offline, questionnaire_pages, rules, selectors
from rehab.alerts import alert_acknowledge, alert_resolve, alert_snooze
from rehab.exercise_library import exercise_sheet
from rehab.forms import (
    CloseForm,
    EntryForm,
    EpisodeOpenForm,
    InterventionForm,
    PrescriptionForm,
    ReferralForm,
    add_service_errors,
)
from rehab.models import Alert, Episode, EpisodeStatus, ReevaluationRun
from rehab.reevaluation import latest_reevaluation
from rehab.search import normalise
from rehab.services import (
    diary_closed_message,
    entry_record,
    episode_close,
    episode_open,
    episode_record_referral,
    intervention_record,
    prescription_create,
)
from rehab.staff_forms import AlertNoteForm, AlertSnoozeForm, ThresholdsForm
from rehab.thresholds import (
    LABELS,
    ClinicThresholds,
    ThresholdWarning,
    UnconfirmedThresholds,
    clinic_thresholds,
    clinic_thresholds_update,
)
from rehab.vocabulary import code_label

GET_POST = ["GET", "POST"]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every caller is behind login_required
    return user


def _require_staff(request: HttpRequest) -> User:
    user = _user(request)
    if not can_manage_patients(user):
        raise PermissionDenied(gettext("Only therapists and clinic admins may open this page."))
    return user


# --- Home ----------------------------------------------------------------------------------------


def patient_home(request: HttpRequest) -> HttpResponse:
    """Everybody but staff at "/": a patient's entry for today, or a note for an account with no
    clinic role. ``config.pages.home`` serves "/" and hands non-staff here (staff get the
    caseload from ``reports``)."""
    user = _user(request)
    patient = selectors.patient_of(user)
    if patient is not None:
        return _entry_page(request, patient=patient, day=None)
    if request.method != "GET":
        # Only the patient's entry form posts to "/".
        return HttpResponseNotAllowed(["GET"])
    return render(request, "home_other.html")


# --- Patient: daily entry ------------------------------------------------------------------------


def _patient_or_404(request: HttpRequest) -> Patient:
    patient = selectors.patient_of(_user(request))
    if patient is None:
        raise Http404("This page is for patients.")
    return patient


def _chosen_episode(request: HttpRequest, patient: Patient) -> tuple[Episode | None, list[Episode]]:
    """The active episode to log against: ``?episode=ID`` if given, else the latest started."""
    episodes = selectors.patient_active_episodes(patient=patient)
    wanted = request.GET.get("episode")
    if wanted:
        for episode in episodes:
            if str(episode.pk) == wanted:
                return episode, episodes
        raise Http404("No such active episode.")
    return (episodes[0] if episodes else None), episodes


def _day_url(day: dt.date, today: dt.date, episode: Episode, episodes: list[Episode]) -> str:
    url = reverse("home") if day == today else reverse("patient-log", args=[day])
    # Only a patient with several active episodes needs to say which one.
    return f"{url}?episode={episode.pk}" if len(episodes) > 1 else url


def _dated_url(day: dt.date, episode: Episode, episodes: list[Episode]) -> str:
    url = reverse("patient-log", args=[day])
    return f"{url}?episode={episode.pk}" if len(episodes) > 1 else url


def _error_links(form: EntryForm) -> list[dict[str, str]]:
    """One link per field error for the summary at the top, to the control it concerns: the
    first choice of a pain scale, the number box of an exercise."""
    links = []
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        label = str(form.fields[name].label or "")
        anchor = f"id_{name}_0" if name in {"pain_activity", "pain_rest"} else f"id_{name}"
        for error in errors:
            links.append({"href": f"#{anchor}", "text": str(error), "label": label})
    return links


def _scale(form: EntryForm, name: str) -> list[dict[str, Any]]:
    value = form[name].value()
    current = "" if value is None else str(value)
    return [{"value": n, "checked": str(n) == current} for n in range(11)]


def _exercise_rows(form: EntryForm, data: selectors.EntryFormData) -> list[dict[str, Any]]:
    """Each exercise due: a number box for the sets done (0 … prescribed) and an "all done" tick.

    A fresh form shows what was saved: all sets as a tick, a partial count (say 2 of 3, from
    this page or the API) as that number, unticked, and said in words.
    """
    rows = []
    for row in data.exercises:
        name = EntryForm.exercise_field_name(row.prescription)
        prescribed = row.prescription.sets
        saved = row.sets_completed
        if form.is_bound:
            raw = form[name].value()
            value = "" if raw is None else str(raw)
            checked = EntryForm.all_done_field_name(row.prescription) in form.data
        else:
            value = str(saved or 0)
            checked = saved is not None and saved >= prescribed
        rows.append(
            {
                "name": name,
                "all_name": EntryForm.all_done_field_name(row.prescription),
                "prescription": row.prescription,
                "value": value,
                "saved": saved,
                "partial": saved is not None and 0 < saved < prescribed,
                "checked": checked,
                "errors": form[name].errors,
                # How to do it: the picture and instructions (rehab/exercise_library.py).
                "sheet": exercise_sheet(row.prescription),
            }
        )
    return rows


def _closed_diary_page(request: HttpRequest, patient: Patient) -> HttpResponse | None:
    """The diary of a referred or closed episode, shown as closed instead of the form.

    Shown for ``?episode=ID`` of such an episode, or when the patient's latest episode is no
    longer active and none is. A POST to it is refused with a 409 and saves nothing: after
    referral or closure the entries are the evidence behind it (``rehab.services``).
    """
    episodes = patient.episodes.order_by("-start_date", "-id")
    wanted = request.GET.get("episode")
    if wanted:
        closed = (
            episodes.exclude(status=EpisodeStatus.ACTIVE).filter(pk=wanted).first()
            if wanted.isdigit()
            else None
        )
    elif episodes.filter(status=EpisodeStatus.ACTIVE).exists():
        closed = None
    else:
        closed = episodes.first()
    if closed is None:
        return None
    return render(
        request,
        "patient/diary_closed.html",
        {"episode": closed, "message": diary_closed_message(closed)},
        status=409 if request.method == "POST" else 200,
    )


ENTRY_DATE_FIELD = "entry_date"


def _posted_entry_date(request: HttpRequest) -> dt.date | str | None:
    """The day a posted form was opened for (its hidden ``entry_date``), None when not sent,
    or the text itself when it is not a date (the caller refuses it)."""
    if request.method != "POST" or ENTRY_DATE_FIELD not in request.POST:
        return None
    text = request.POST[ENTRY_DATE_FIELD].strip()
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else text
    except ValueError:
        return text


def _entry_page(request: HttpRequest, *, patient: Patient, day: dt.date | None) -> HttpResponse:
    closed = _closed_diary_page(request, patient)
    if closed is not None:
        return closed
    episode, episodes = _chosen_episode(request, patient)
    if episode is None:
        past = list(patient.episodes.order_by("-start_date", "-id"))
        return render(request, "patient/no_episode.html", {"past_episodes": past})
    today = patient.local_today()
    # The day is the one the form was opened for (clinical-rules.md, "Input rules"): a form
    # opened at 23:58 and sent at 00:01 is the first day's, whatever the clock says on arrival.
    opened_for = _posted_entry_date(request)
    refused: dict[str, Any] | None = None
    if isinstance(opened_for, str):
        refused = {"unreadable": True}
    elif opened_for is not None and day is not None and opened_for != day:
        # The page of one day never files under another: a tampered or mixed-up form.
        refused = {"mismatch": True, "opened_for": opened_for}
    if isinstance(opened_for, dt.date) and refused is None:
        day = opened_for
    day = day or today
    window = selectors.editable_dates(episode=episode, today=today)
    if refused is not None or day not in window:
        return render(
            request,
            "patient/date_refused.html",
            {
                "day": day,
                "today": today,
                "episode": episode,
                "future": day > today,
                "before_start": day < episode.start_date,
                "window_days": selectors.EDIT_WINDOW_DAYS,
                "today_url": _day_url(today, today, episode, episodes),
                **(refused or {}),
            },
            status=400,
        )
    data = selectors.entry_form_data(episode=episode, date=day, today=today)
    prescriptions = [row.prescription for row in data.exercises]
    if request.method == "POST":
        form = EntryForm(request.POST, prescriptions=prescriptions)
        if form.is_valid():
            try:
                result = entry_record(
                    actor=_user(request), episode=episode, date=day, **form.service_kwargs()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _saved_message(result.created, day, today))
                return redirect(_day_url(day, today, episode, episodes))
    else:
        # The offline diary's script saves through the API and then opens the day with
        # ?saved=created|replaced: the same words as after a form POST (docs/diary.md).
        saved = request.GET.get("saved")
        if saved in ("created", "replaced") and data.entry is not None:
            messages.success(request, _saved_message(saved == "created", day, today))
        entry = data.entry
        initial = (
            {
                "pain_activity": entry.pain_activity,
                "pain_rest": entry.pain_rest,
                "pf_rom_affected": entry.pf_rom_affected,
                "pf_rom_unaffected": entry.pf_rom_unaffected,
                "note": entry.note,
            }
            if entry
            else {}
        )
        form = EntryForm(initial=initial, prescriptions=prescriptions)
    response = render(
        request,
        "patient/today.html",
        {
            "form": form,
            "data": data,
            "episode": episode,
            "episodes": episodes if len(episodes) > 1 else [],
            "is_today": day == today,
            # The day's task when a questionnaire is due (docs/patient-pages.md).
            "questionnaire_task": questionnaire_pages.questionnaire_task(
                episode=episode, today=today, several=len(episodes) > 1
            )
            if day == today
            else None,
            "trial_day": selectors.trial_day(episode=episode, today=day),
            "pain_activity_scale": _scale(form, "pain_activity"),
            "pain_rest_scale": _scale(form, "pain_rest"),
            "exercise_rows": _exercise_rows(form, data),
            "action_url": _day_url(day, today, episode, episodes),
            # Contract A (docs/patient-pages.md): what the offline script needs to send the
            # entry itself. The day's own dated address stays right after midnight, "/" not.
            "entry_api_url": reverse("api-entry-detail", args=[episode.pk, day.isoformat()]),
            "entry_version": selectors.entry_etag(data.entry) if data.entry else "",
            "dated_url": _dated_url(day, episode, episodes),
            "error_links": _error_links(form),
            "day_links": [
                {
                    "date": link.date,
                    "logged": link.logged,
                    "current": link.date == day,
                    "url": _day_url(link.date, today, episode, episodes),
                    "entry_api_url": reverse(
                        "api-entry-detail", args=[episode.pk, link.date.isoformat()]
                    ),
                }
                for link in data.recent_days
            ],
        },
    )
    if request.method == "GET":
        # The patient's own form may be kept on their phone to open offline (rehab/offline.py).
        response[offline.OFFLINE_COPY_HEADER] = "1"
    return response


def _saved_message(created: bool, day: dt.date, today: dt.date) -> str:
    # Whole sentences, so a language can order them its own way; the day in the active
    # language's names ("l j F": Saturday 5 December).
    if day == today:
        if created:
            return gettext("Saved your entry for today. Thank you!")
        return gettext("Updated your entry for today. Thank you!")
    params = {"day": date_format(day, "l j F")}
    if created:
        return gettext("Saved your entry for %(day)s. Thank you!") % params
    return gettext("Updated your entry for %(day)s. Thank you!") % params


@login_required
@require_http_methods(GET_POST)
def patient_log(request: HttpRequest, day: dt.date) -> HttpResponse:
    """Log or correct one of the last 7 days."""
    return _entry_page(request, patient=_patient_or_404(request), day=day)


@login_required
@require_GET
def patient_history(request: HttpRequest) -> HttpResponse:
    """The patient's history: the page of their chosen (or latest) episode."""
    patient = _patient_or_404(request)
    episode, _ = _chosen_episode(request, patient)
    if episode is None:
        episode = patient.episodes.order_by("-start_date", "-id").first()
    if episode is None:
        return render(request, "patient/no_episode.html", {"past_episodes": []})
    return redirect("episode", pk=episode.pk)


# --- The episode page: the patient's history ----------------------------------------------------


def episode_history(request: HttpRequest, pk: int) -> HttpResponse:
    """A patient's own episode page: their history, with a link to each day they may still edit.

    ``config.pages.episode_page`` serves "/episodes/{id}/" and hands everybody but staff here;
    staff get the episode page of ``reports.views`` (it draws the course charts)."""
    user = _user(request)
    detail = selectors.episode_detail_for(user=user, episode_id=pk)
    episode = detail.episode
    if not user.is_patient:
        # Reached, yet neither the patient nor staff: no role that has an episode page.
        raise PermissionDenied("Only the patient and their clinic's staff may open this page.")
    today = episode.patient.local_today()
    editable = (
        set(selectors.editable_dates(episode=episode, today=today))
        if episode.status == EpisodeStatus.ACTIVE
        else set()
    )
    several = (
        selectors.patient_active_episodes(patient=episode.patient)
        if episode.status == EpisodeStatus.ACTIVE
        else []
    )
    rows: list[dict[str, Any]] = []
    for item in selectors.history_with_gaps(episode=episode, rows=detail.history, today=today):
        if isinstance(item, selectors.HistoryGap):
            # A missed day of the last 7 links to its form, so the patient can fill it in.
            fill = [{"date": d, "url": _day_url(d, today, episode, several)} for d in item.fillable]
            rows.append({"gap": item, "fill": fill})
            continue
        rows.append(
            {
                "row": item,
                "edit_url": _day_url(item.entry.date, today, episode, several)
                if item.entry.date in editable
                else None,
            }
        )
    return render(
        request,
        "patient/history.html",
        {"episode": episode, "rows": rows, "has_entries": bool(detail.history)},
    )


# --- Staff: patients -----------------------------------------------------------------------------


@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    user = _require_staff(request)
    q = normalise(request.GET.get("q", ""))
    patients = list(selectors.patient_rows(user=user, q=q))
    audit_read(user, action="patients.listed", obj=Patient, count=len(patients))
    return render(
        request,
        "therapist/patient_list.html",
        {"patients": patients, "q": q, "statuses": dict(EpisodeStatus.choices)},
    )


def _invite_page(request: HttpRequest, patient: Patient, issued: IssuedInvitation) -> HttpResponse:
    return render(
        request, "therapist/patient_invited.html", {"patient": patient, "invite_url": issued.url}
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def patient_new(request: HttpRequest) -> HttpResponse:
    user = _require_staff(request)
    form = PatientCreateForm(request.POST or None, actor=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = patient_create(
                actor=user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                timezone_name=data["timezone"],
                therapist=data.get("therapist"),
                birth_date=data["birth_date"],
                sex=data["sex"],
                mrn=data["mrn"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # The link is shown once, here: only its digest is stored.
            return _invite_page(request, created.patient, created.invitation)
    return render(
        request,
        "therapist/form.html",
        {
            "form": form,
            "title": gettext("Add a patient"),
            "intro": gettext("The patient gets an email with a one-time link to set a password."),
            "submit": gettext("Create patient and send invitation"),
            "cancel_url": reverse("patient-list"),
        },
    )


@login_required
@require_GET
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    detail = selectors.patient_detail_for(user=user, patient_id=pk)
    _require_staff(request)
    audit_read(user, action="patient.viewed", obj=detail.patient, patient_id=detail.patient.pk)
    return render(request, "therapist/patient_detail.html", {"detail": detail})


@never_cache
@login_required
@require_http_methods(GET_POST)
def patient_identifiers(request: HttpRequest, pk: int) -> HttpResponse:
    """Date of birth, sex and medical record number: what an EHR matches the patient on."""
    user = _user(request)
    patient = selectors.patient_detail_for(user=user, patient_id=pk).patient
    _require_staff(request)
    initial = {"birth_date": patient.birth_date, "sex": patient.sex, "mrn": patient.mrn}
    form = PatientIdentifiersForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient_identifiers_update(
                actor=user,
                patient=patient,
                birth_date=data["birth_date"],
                sex=data["sex"],
                mrn=data["mrn"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Identifiers saved."))
            return redirect("patient-detail", pk=patient.pk)
    return render(
        request,
        "therapist/form.html",
        {
            "form": form,
            "title": gettext("Identifiers of %(patient)s") % {"patient": patient},
            "intro": gettext(
                "A records system (EHR) matches the patient on these when it takes the "
                "patient's FHIR export. All are optional."
            ),
            "submit": gettext("Save identifiers"),
            "cancel_url": reverse("patient-detail", args=[patient.pk]),
        },
    )


@never_cache
@login_required
@require_POST
def patient_reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    """A fresh one-time link (the old one stops working), e.g. when the first email was lost."""
    user = _user(request)
    patient = selectors.patient_detail_for(user=user, patient_id=pk).patient
    _require_staff(request)
    try:
        issued = invitation_issue(actor=user, patient=patient)
    except ValidationError as exc:
        # The patient has set a password: a link whose holder picks a new one is a takeover.
        for message in exc.messages:
            messages.error(request, message)
        return redirect("patient-detail", pk=patient.pk)
    return _invite_page(request, patient, issued)


@never_cache
@login_required
@require_POST
def patient_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the patient a password-reset link; the link goes to the patient only."""
    user = _user(request)
    patient = selectors.patient_detail_for(user=user, patient_id=pk).patient
    _require_staff(request)
    try:
        services_patient_password_reset(actor=user, patient=patient)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except LockedOut as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            gettext(
                "A password-reset email is on its way to %(email)s. The link in it goes "
                "to the patient only."
            )
            % {"email": patient.user.email},
        )
    return redirect("patient-detail", pk=patient.pk)


@login_required
@require_http_methods(GET_POST)
def episode_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    patient = selectors.patient_detail_for(user=user, patient_id=pk).patient
    _require_staff(request)
    form = EpisodeOpenForm(request.POST or None, initial={"start_date": patient.local_today()})
    if request.method == "POST" and form.is_valid():
        try:
            episode = episode_open(actor=user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Episode opened. Now prescribe the exercises."))
            return redirect("episode", pk=episode.pk)
    return render(
        request,
        "therapist/form.html",
        {
            "form": form,
            "title": gettext("Open an episode for %(patient)s") % {"patient": patient},
            "submit": gettext("Open episode"),
            "cancel_url": reverse("patient-detail", args=[patient.pk]),
        },
    )


# --- Staff: writes on an episode -----------------------------------------------------------------


def _staff_episode(request: HttpRequest, pk: int) -> tuple[User, Episode]:
    user = _user(request)
    episode = selectors.episode_in_reach(user=user, episode_id=pk)
    _require_staff(request)
    return user, episode


def _episode_form_page(
    request: HttpRequest, episode: Episode, form: Any, title: str, submit: str
) -> HttpResponse:
    return render(
        request,
        "therapist/form.html",
        {
            "form": form,
            "title": title,
            "episode": episode,
            "submit": submit,
            "cancel_url": reverse("episode", args=[episode.pk]),
        },
    )


@login_required
@require_http_methods(GET_POST)
def prescription_new(request: HttpRequest, pk: int) -> HttpResponse:
    user, episode = _staff_episode(request, pk)
    form = PrescriptionForm(request.POST or None, clinic_id=episode.patient.user.clinic_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            prescription_create(
                actor=user,
                episode=episode,
                exercise=form.exercise_name(),
                sets=data["sets"],
                reps=data.get("reps") or "",
                start_date=data.get("start_date"),
                end_date=data.get("end_date"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Exercise prescribed."))
            return redirect("episode", pk=episode.pk)
    return _episode_form_page(
        request, episode, form, gettext("Prescribe an exercise"), gettext("Prescribe")
    )


@login_required
@require_http_methods(GET_POST)
def intervention_new(request: HttpRequest, pk: int) -> HttpResponse:
    user, episode = _staff_episode(request, pk)
    form = InterventionForm(
        request.POST or None, initial={"start_date": episode.patient.local_today()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            intervention_record(actor=user, episode=episode, **form.service_values())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, gettext("Intervention recorded."))
            return redirect("episode", pk=episode.pk)
    return _episode_form_page(
        request, episode, form, gettext("Record an intervention"), gettext("Record")
    )


@login_required
@require_http_methods(GET_POST)
def episode_referral(request: HttpRequest, pk: int) -> HttpResponse:
    user, episode = _staff_episode(request, pk)
    form = ReferralForm(request.POST or None, initial={"date": episode.patient.local_today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            episode_record_referral(
                actor=user,
                episode=episode,
                date=data["date"],
                referred_to=data.get("referred_to") or "",
                note=data.get("note") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Referral recorded; the trial has ended."))
            return redirect("episode", pk=episode.pk)
    return _episode_form_page(
        request, episode, form, gettext("Record a referral"), gettext("Record referral")
    )


@login_required
@require_http_methods(GET_POST)
def episode_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    user, episode = _staff_episode(request, pk)
    form = CloseForm(request.POST or None, initial={"date": episode.patient.local_today()})
    if request.method == "POST" and form.is_valid():
        try:
            episode_close(actor=user, episode=episode, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Episode closed."))
            return redirect("episode", pk=episode.pk)
    return _episode_form_page(
        request, episode, form, gettext("Close the episode"), gettext("Close episode")
    )


# --- Add to home screen --------------------------------------------------------------------------


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest; icon addresses go through ``static`` so hashed names work."""
    icons = [
        {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        *(
            {
                "src": static(f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for size in (192, 512)
            for purpose in ("any", "maskable")
        ),
    ]
    return JsonResponse(
        {
            "name": gettext("Ankle rehab diary"),
            "short_name": gettext("Rehab diary"),
            "description": gettext(
                "Log ankle pain, plantar flexion and exercises in under a minute."
            ),
            "lang": get_language() or settings.LANGUAGE_CODE,
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#ffffff",
            "theme_color": "#0b6e4f",
            "icons": icons,
        },
        content_type="application/manifest+json",
    )


# --- Offline diary: the service worker and its fallback page ------------------------------------


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker at /sw.js, so that its scope is the whole site (docs/diary.md).

    Open to everybody (it holds no data): a worker that could not be fetched while signed out,
    or during a two-factor step, would stop updating. ``no-cache`` makes the browser check for a
    new worker on every update check, which is how a deploy reaches the phones.
    """
    response = render(
        request,
        "pwa/sw.js",
        {
            # JSON inside the script: every value is ours, none comes from the request.
            "queue_script_json": json.dumps(static("js/offline-queue.js")),
            "config_json": json.dumps(
                {
                    "version": offline.shell_version(),
                    "shellUrls": offline.shell_urls(),
                    "offlineUrl": reverse("offline"),
                    "loginUrl": reverse("login"),
                    "staticUrl": settings.STATIC_URL,
                    "offlineCopyHeader": offline.OFFLINE_COPY_HEADER,
                },
                indent=2,
            ),
            # Words for a push that carries none (templates/pwa/sw_push.js): the worker has no
            # catalogue, so they come translated in the language /sw.js was fetched in.
            "push_fallback_json": json.dumps(
                {
                    "title": gettext("Rehab diary"),
                    "body": gettext("A minute for today's diary?"),
                }
            ),
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    # A worker runs under the policy sent with its script, not the page's: the same 'self' only.
    response["Content-Security-Policy"] = offline.WORKER_POLICY
    return response


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """What an address the phone has not stored shows while offline. It holds no user's data:
    the worker stores it once, for whoever signs in next."""
    return render(request, "pwa/offline.html")


# --- Staff: alerts -------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@never_cache
@login_required
@require_GET
def alert_inbox(request: HttpRequest) -> HttpResponse:
    """The therapist's (clinic admin: the clinic's) alerts, most severe first, by status."""
    user = _require_staff(request)
    tab = request.GET.get("tab") or "unresolved"
    inbox = selectors.alert_inbox(user=user, tab=tab, page=request.GET.get("page"))
    audit_read(user, action="alerts.listed", obj=Alert, count=len(inbox.page.object_list))
    return render(
        request,
        "therapist/alerts.html",
        {
            "inbox": inbox,
            "tabs": [
                {"key": key, "label": label, "count": inbox.counts[key], "current": key == tab}
                for key, label in (
                    ("unresolved", gettext("Needs attention")),
                    # Translators: alert inbox tab, alerts not yet acknowledged.
                    ("open", pgettext("alerts", "Open")),
                    ("acknowledged", gettext("Acknowledged")),
                    ("snoozed", gettext("Snoozed")),
                    ("resolved", gettext("Resolved")),
                )
            ],
            "next_url": request.get_full_path(),
        },
    )


ALERT_ACTIONS = ("acknowledge", "snooze", "resolve")


@never_cache
@login_required
@require_POST
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Acknowledge, snooze or resolve one alert: the same services as the API."""
    user = _user(request)
    if action not in ALERT_ACTIONS:
        raise Http404("No such action.")
    back = _safe_next(request, reverse("alert-inbox"))
    with transaction.atomic():
        # Out of reach (another clinic, another therapist's patient, any patient): 404. The
        # lock serialises the action with a concurrent evaluation of the same episode.
        alert = selectors.alert_in_reach(user=user, alert_id=pk, for_update=True)
        _require_staff(request)
        form = AlertSnoozeForm(request.POST) if action == "snooze" else AlertNoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_problem(form))
            return redirect(back)
        try:
            if action == "acknowledge":
                alert_acknowledge(actor=user, alert=alert, note=form.cleaned_data["note"])
                done = gettext("“%(label)s” for %(patient)s acknowledged.")
            elif action == "resolve":
                alert_resolve(actor=user, alert=alert, note=form.cleaned_data["note"])
                done = gettext("“%(label)s” for %(patient)s resolved.")
            else:
                until = form.cleaned_data["until"]
                alert_snooze(
                    actor=user, alert=alert, until=until, today=alert.episode.patient.local_today()
                )
                done = gettext("“%(label)s” for %(patient)s snoozed until %(day)s.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(back)
    day = date_format(alert.snoozed_until, "j M Y") if alert.snoozed_until else ""
    params = {"label": code_label(alert.code), "patient": alert.episode.patient, "day": day}
    if action == "resolve" and alert.suppressing:
        messages.warning(
            request,
            gettext(
                "“%(label)s” for %(patient)s resolved, but the finding still fires as of "
                "today: no new alert or email for it until an evaluation no longer finds it, "
                "and the caseload keeps the patient at its urgency."
            )
            % params,
        )
        return redirect(back)
    messages.success(request, done % params)
    return redirect(back)


def _form_problem(form: AlertNoteForm | AlertSnoozeForm) -> str:
    problems = []
    for name, errors in form.errors.items():
        text = " ".join(str(error) for error in errors)
        problems.append(
            gettext("%(field)s: %(problem)s") % {"field": form.fields[name].label, "problem": text}
            if name in form.fields
            else text
        )
    return " ".join(problems)


# --- Clinic admin: thresholds --------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(GET_POST)
def thresholds_settings(request: HttpRequest) -> HttpResponse:
    """The clinic's rule thresholds: admins change them, therapists read them.

    Saving re-evaluates the clinic's active episodes at once (the run's page shows the
    progress). Values outside their published range are saved only once the admin ticks the
    confirmation the page then shows.
    """
    user = _require_staff(request)
    assert user.clinic_id is not None
    may_edit = user.is_clinic_admin
    if request.method == "POST" and not may_edit:
        raise PermissionDenied(gettext("Only a clinic admin may change the thresholds."))
    current = clinic_thresholds(clinic_id=user.clinic_id)
    warnings: list[ThresholdWarning] = []
    if request.method == "POST":
        if "reset" in request.POST:
            saved = clinic_thresholds_update(actor=user, values={})
            messages.success(request, gettext("All thresholds are back to their defaults."))
            return _after_thresholds_saved(saved)
        form = ThresholdsForm(request.POST)
        if form.is_valid():
            try:
                saved = clinic_thresholds_update(
                    actor=user, values=form.values(), confirm=form.cleaned_data["confirm"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except UnconfirmedThresholds as unconfirmed:
                warnings = unconfirmed.warnings
            else:
                messages.success(
                    request,
                    gettext("Thresholds saved. The clinic's active episodes are re-evaluated now.")
                    if saved.reevaluation
                    else gettext("Thresholds saved (nothing changed)."),
                )
                return _after_thresholds_saved(saved)
    else:
        form = ThresholdsForm(initial=current.values.as_dict())
    warned = {w.name for w in warnings}
    rows = [
        {
            "field": form[name],
            "label": LABELS[name][0],
            "value": getattr(current.values, name),
            "default": current.defaults[name],
            "changed": name in current.overrides,
            "warning": name in warned,
        }
        for name in LABELS
    ]
    return render(
        request,
        "settings/thresholds.html",
        {
            "form": form,
            "rows": rows,
            "current": current,
            "may_edit": may_edit,
            "ruleset": rules.RULESET_VERSION,
            "warnings": warnings,
            "confirm_field": form["confirm"],
            "run": latest_reevaluation(clinic_id=user.clinic_id),
        },
    )


def _after_thresholds_saved(saved: ClinicThresholds) -> HttpResponse:
    if saved.reevaluation is not None:
        return redirect("reevaluation-run", run_id=saved.reevaluation.pk)
    return redirect("thresholds-settings")


@never_cache
@login_required
@require_GET
def reevaluation_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress of a re-evaluation of the clinic's episodes; refreshes itself (no script)
    while it runs. Another clinic's run is a 404."""
    user = _user(request)
    # A clinic's object, reached by its staff; anybody else finds nothing here (404).
    if not can_manage_patients(user) or user.clinic_id is None:
        raise Http404
    run = get_object_or_404(ReevaluationRun, pk=run_id, clinic_id=user.clinic_id)
    return render(request, "settings/reevaluation_run.html", {"run": run})
