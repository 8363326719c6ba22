"""The correction pages and the episode page's corrections history (issue 14, points 4, 5)."""

from __future__ import annotations

import pytest

from rehab.models import Intervention, Prescription, RecordCorrection
from tests.factories import InterventionFactory, PrescriptionFactory
from tests.pages.helpers import control, described_by_ids, unlabelled
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapist(cast):
    return signed_in_client(cast.therapist)


def test_the_episode_page_links_every_record_to_its_correction(cast, therapist):
    shot = InterventionFactory(
        episode=cast.episode_a, kind="corticosteroid_injection", site="subtalar_joint"
    )
    prescription = PrescriptionFactory(episode=cast.episode_a)
    html = therapist.get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    base = f"/episodes/{cast.episode_a.pk}"
    assert f'href="{base}/interventions/{shot.pk}/correct/"' in html
    assert f'href="{base}/prescriptions/{prescription.pk}/correct/"' in html
    assert f'href="{base}/intake/correct/"' in html
    assert "Posterior subtalar joint" in html
    assert "No corrections." in html
    assert "needs review" not in html.lower()


def test_a_flagged_injection_shows_until_staff_correct_it(cast, therapist):
    flagged = InterventionFactory(
        episode=cast.episode_a,
        kind="corticosteroid_injection",
        site="other",
        note="Site as recorded: somewhere",
        needs_review=True,
    )
    html = therapist.get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    assert "An injection record needs review" in html
    assert "Needs review" in html
    address = f"/episodes/{cast.episode_a.pk}/interventions/{flagged.pk}/correct/"
    page = therapist.get(address)
    assert "flagged for review" in page.content.decode()
    assert unlabelled(page) == []
    response = therapist.post(
        address,
        {
            "kind": "corticosteroid_injection",
            "start_date": flagged.start_date,
            "injection_site": "os_trigonum_region",
            "note": "Image-guided, os trigonum region.",
            "reason": "Site confirmed from the radiology report",
        },
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert (flagged.site, flagged.needs_review) == ("os_trigonum_region", False)
    html = therapist.get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    assert "An injection record needs review" not in html
    assert '<span class="flag">Needs review</span>' not in html
    assert "Needs review: yes → no" in html
    # The history: what, who, why, and the values before and after.
    assert "Site confirmed from the radiology report" in html
    assert "Another site, described in the note → Os trigonum / posterior talar process" in html


def test_a_correction_without_a_reason_is_refused_on_the_reason_field(cast, therapist):
    boot = InterventionFactory(episode=cast.episode_a, kind="immobilization", site="Boot")
    address = f"/episodes/{cast.episode_a.pk}/interventions/{boot.pk}/correct/"
    response = therapist.post(
        address, {"kind": "immobilization", "start_date": boot.start_date, "site": "Cast"}
    )
    assert response.status_code == 200
    assert "Say why you are correcting this record" in response.content.decode()
    reason = control(response, "reason")
    assert "id_reason_error" in described_by_ids(response, reason)
    boot.refresh_from_db()
    assert boot.site == "Boot"


def test_deleting_a_prescription_from_its_page(cast, therapist):
    prescription = PrescriptionFactory(episode=cast.episode_a)
    address = f"/episodes/{cast.episode_a.pk}/prescriptions/{prescription.pk}/correct/"
    response = therapist.post(address, {"delete": "1", "delete-reason": ""})
    assert response.status_code == 200
    assert Prescription.objects.filter(pk=prescription.pk).exists()
    response = therapist.post(address, {"delete": "1", "delete-reason": "Wrong patient"})
    assert response.status_code == 302
    assert not Prescription.objects.filter(pk=prescription.pk).exists()
    html = therapist.get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    assert "Wrong patient" in html and "deleted" in html


def test_correcting_the_intake_values_on_their_page(cast, therapist):
    address = f"/episodes/{cast.episode_a.pk}/intake/correct/"
    page = therapist.get(address)
    assert page.status_code == 200 and unlabelled(page) == []
    response = therapist.post(
        address,
        {
            "affected_side": cast.episode_a.affected_side,
            "diagnosis": cast.episode_a.diagnosis,
            "intake_pain_activity": "8",
            "reason": "Typo at intake",
        },
    )
    assert response.status_code == 302
    correction = RecordCorrection.objects.get()
    assert correction.new_values == {"intake_pain_activity": 8}


def test_patients_and_other_clinics_cannot_open_the_correction_pages(cast):
    nsaid = InterventionFactory(episode=cast.episode_a, kind="nsaid")
    address = f"/episodes/{cast.episode_a.pk}/interventions/{nsaid.pk}/correct/"
    assert signed_in_client(cast.patient_a).get(address).status_code == 403
    assert signed_in_client(cast.other_therapist).get(address).status_code == 404
    assert (
        signed_in_client(cast.other_therapist)
        .post(address, {"delete": "1", "delete-reason": "x"})
        .status_code
        == 404
    )
    assert Intervention.objects.filter(pk=nsaid.pk).exists()
