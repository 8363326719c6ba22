"""Correcting records with a reason: PATCH/DELETE of interventions and prescriptions, PATCH of
the episode's intake values, and the corrections they leave (issue 14, point 5)."""

from __future__ import annotations

import pytest

from accounts.erasure import patient_erase
from accounts.models import AuditEvent
from rehab.models import Episode, ExerciseLog, Intervention, Prescription, RecordCorrection
from tests.api.helpers import errors, url
from tests.factories import (
    DailyEntryFactory,
    ExerciseLogFactory,
    InterventionFactory,
    PrescriptionFactory,
)

pytestmark = pytest.mark.django_db


def detail(intervention: Intervention) -> str:
    return url(
        "api-intervention-detail", pk=intervention.episode_id, intervention_id=intervention.pk
    )


def test_correcting_an_intervention_keeps_old_and_new_values_and_asks_for_evaluation(cast, api):
    boot = InterventionFactory(episode=cast.episode_a, kind="immobilization", site="Boot")
    client = api(cast.therapist)
    response = client.patch(
        detail(boot),
        {"site": "Walking boot, left", "reason": "Wrong side typed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["site"] == "Walking boot, left"
    correction = RecordCorrection.objects.get()
    assert (correction.object_type, correction.object_id) == ("intervention", boot.pk)
    assert correction.action == "changed"
    assert correction.reason == "Wrong side typed"
    assert correction.old_values == {"site": "Boot"}
    assert correction.new_values == {"site": "Walking boot, left"}
    assert correction.corrected_by == cast.therapist
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"intervention.corrected", "record.corrected"} <= actions
    assert Episode.objects.get(pk=cast.episode_a.pk).evaluation_requested_at is not None


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_correction_without_a_reason_is_400_and_changes_nothing(cast, api, reason):
    boot = InterventionFactory(episode=cast.episode_a, kind="immobilization", site="Boot")
    body = {"site": "Other"} if reason is None else {"site": "Other", "reason": reason}
    response = errors(api(cast.therapist).patch(detail(boot), body, format="json"))
    assert list(response) == ["reason"]
    boot.refresh_from_db()
    assert boot.site == "Boot"
    assert not RecordCorrection.objects.exists()


def test_a_corrected_injection_is_checked_like_a_new_one(cast, api):
    shot = InterventionFactory(
        episode=cast.episode_a, kind="corticosteroid_injection", site="subtalar_joint"
    )
    client = api(cast.admin)
    body = errors(
        client.patch(detail(shot), {"site": "achilles_paratenon", "reason": "x"}, format="json")
    )
    assert "002_cddceb049a0c87f7.txt" in body["site"][0]
    body = errors(
        client.patch(
            detail(shot), {"note": "beside the Achilles insertion", "reason": "x"}, format="json"
        )
    )
    assert list(body) == ["note"]
    shot.refresh_from_db()
    assert (shot.site, shot.note) == ("subtalar_joint", "")


def test_saving_a_flagged_record_with_a_reason_clears_the_review_flag(cast, api):
    flagged = InterventionFactory(
        episode=cast.episode_a,
        kind="corticosteroid_injection",
        site="other",
        note="Site as recorded: sinus tarsi",
        needs_review=True,
    )
    response = api(cast.therapist).patch(
        detail(flagged), {"reason": "Checked: sinus tarsi is right"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["needs_review"] is False
    correction = RecordCorrection.objects.get()
    assert (correction.old_values, correction.new_values) == (
        {"needs_review": True},
        {"needs_review": False},
    )


def test_deleting_an_intervention_needs_a_reason_and_keeps_its_values(cast, api):
    nsaid = InterventionFactory(episode=cast.episode_a, kind="nsaid", note="Ibuprofen")
    client = api(cast.therapist)
    assert list(errors(client.delete(detail(nsaid)))) == ["reason"]
    assert Intervention.objects.filter(pk=nsaid.pk).exists()
    response = client.delete(detail(nsaid) + "?reason=Recorded+on+the+wrong+patient")
    assert response.status_code == 204
    assert not Intervention.objects.filter(pk=nsaid.pk).exists()
    correction = RecordCorrection.objects.get()
    assert correction.action == "deleted"
    assert correction.object_id == nsaid.pk
    assert correction.old_values["kind"] == "nsaid"
    assert correction.old_values["note"] == "Ibuprofen"
    assert correction.new_values is None
    assert AuditEvent.objects.filter(action="intervention.deleted").exists()


def test_patients_get_403_and_other_clinics_404(cast, api):
    mine = InterventionFactory(episode=cast.episode_a, kind="nsaid")
    body = {"note": "x", "reason": "y"}
    patient = api(cast.patient_a.user)
    assert patient.get(detail(mine)).status_code == 200
    assert patient.patch(detail(mine), body, format="json").status_code == 403
    assert patient.delete(detail(mine) + "?reason=y").status_code == 403
    other = api(cast.other_therapist)
    assert other.patch(detail(mine), body, format="json").status_code == 404
    assert other.delete(detail(mine) + "?reason=y").status_code == 404
    # An intervention of another episode under this episode's address is not there either.
    theirs = InterventionFactory(episode=cast.episode_b, kind="nsaid")
    wrong = url("api-intervention-detail", pk=cast.episode_a.pk, intervention_id=theirs.pk)
    assert api(cast.therapist).patch(wrong, body, format="json").status_code == 404
    assert not RecordCorrection.objects.exists()


def test_correcting_a_prescription_changes_the_adherence_it_is_judged_by(cast, api):
    prescription = PrescriptionFactory(episode=cast.episode_a, sets=3)
    client = api(cast.therapist)
    address = url("api-prescription-detail", pk=cast.episode_a.pk, prescription_id=prescription.pk)
    response = client.patch(address, {"sets": 2, "reason": "Prescribed 2, typed 3"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["sets"] == 2
    correction = RecordCorrection.objects.get()
    assert (correction.old_values, correction.new_values) == ({"sets": 3}, {"sets": 2})
    assert list(errors(client.patch(address, {"sets": 0, "reason": "x"}, format="json"))) == [
        "sets"
    ]


def test_deleting_a_prescription_keeps_the_sets_logged_against_it(cast, api):
    prescription = PrescriptionFactory(episode=cast.episode_a)
    entry = DailyEntryFactory(episode=cast.episode_a)
    ExerciseLogFactory(entry=entry, prescription=prescription, sets_completed=2)
    address = url("api-prescription-detail", pk=cast.episode_a.pk, prescription_id=prescription.pk)
    response = api(cast.admin).delete(
        address, {"reason": "Prescribed to the wrong episode"}, format="json"
    )
    assert response.status_code == 204
    assert not Prescription.objects.filter(pk=prescription.pk).exists()
    assert not ExerciseLog.objects.exists()
    kept = RecordCorrection.objects.get().old_values
    assert kept["exercise"] == "Double-leg heel raises"
    assert kept["logged_sets"] == [
        {"date": entry.date.isoformat(), "sets_completed": 2},
    ]


def test_correcting_the_intake_values(cast, api):
    client = api(cast.therapist)
    address = url("api-episode-detail", pk=cast.episode_a.pk)
    response = client.patch(
        address,
        {
            "intake_pain_activity": 7,
            "intake_pf_rom_affected": 31.5,
            "bmi": 31.2,
            "diagnosis": "posterior_talar_process",
            "reason": "Copied from the referral letter",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["intake_pain_activity"], body["intake_pf_rom_affected"], body["bmi"]) == (
        7,
        31.5,
        31.2,
    )
    correction = RecordCorrection.objects.get()
    assert correction.object_type == "episode"
    assert correction.new_values == {
        "diagnosis": "posterior_talar_process",
        "intake_pain_activity": 7,
        "intake_pf_rom_affected": 31.5,
        "bmi": 31.2,
    }
    assert AuditEvent.objects.filter(action="episode.intake_corrected").exists()
    bad = errors(client.patch(address, {"intake_pain_activity": 11, "reason": "x"}, format="json"))
    assert list(bad) == ["intake_pain_activity"]
    assert list(errors(client.patch(address, {"bmi": 20}, format="json"))) == ["reason"]


def test_the_corrections_of_an_episode_are_listed(cast, api):
    nsaid = InterventionFactory(episode=cast.episode_a, kind="nsaid")
    client = api(cast.therapist)
    client.patch(detail(nsaid), {"note": "Naproxen", "reason": "Wrong drug"}, format="json")
    body = client.get(url("api-episode-corrections", pk=cast.episode_a.pk)).json()
    assert body["count"] == 1
    [item] = body["results"]
    assert item["reason"] == "Wrong drug"
    assert item["new_values"] == {"note": "Naproxen"}
    assert (
        api(cast.other_therapist)
        .get(url("api-episode-corrections", pk=cast.episode_a.pk))
        .status_code
        == 404
    )


def test_corrections_go_with_the_patients_export_and_are_erased_with_them(cast, api):
    nsaid = InterventionFactory(episode=cast.episode_a, kind="nsaid")
    api(cast.therapist).patch(
        detail(nsaid), {"note": "Naproxen", "reason": "Wrong drug"}, format="json"
    )
    export = api(cast.patient_a.user).get("/api/v1/me/export/").json()
    (episode,) = [e for e in export["episodes"] if e["id"] == cast.episode_a.pk]
    assert [c["reason"] for c in episode["record_corrections"]] == ["Wrong drug"]
    patient_erase(actor=cast.admin, patient=cast.patient_a)
    assert not RecordCorrection.objects.exists()
