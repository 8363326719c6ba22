"""Finding a patient (issue 14, point 10): the caseload and the patient list search by name,
email, initials ("GL") and "G. Liu"; the patient list shows each patient's status; the episode
page links to the CSV and FHIR exports. The search narrows the caller's reach, never widens it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from accounts.models import User
from rehab.models import Episode, EpisodeStatus
from tests.factories import EpisodeFactory, PatientFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


def _episode(therapist: User, first: str, last: str, email: str) -> Episode:
    patient = PatientFactory(
        therapist=therapist, user__first_name=first, user__last_name=last, user__email=email
    )
    start = patient.local_today() - dt.timedelta(days=9)
    return EpisodeFactory(patient=patient, start_date=start)


@pytest.fixture
def people(cast):
    return {
        "grace": _episode(cast.therapist, "Grace", "Liu", "g.liu@example.test"),
        "gary": _episode(cast.therapist, "Gary", "Lamb", "gary@example.test"),
        "lena": _episode(cast.therapist, "Lena", "Grant", "lena@example.test"),
        # Same initials, another therapist: out of a therapist's reach.
        "gina": _episode(cast.therapist_2, "Gina", "Lopez", "gina@example.test"),
    }


def _caseload(client, q: str) -> set[int]:
    return {row.episode_id for row in client.get("/", {"q": q}).context["rows"]}


def test_the_caseload_finds_a_patient_by_email_initials_or_initial_and_surname(cast, people):
    client = signed_in_client(cast.therapist)
    grace, gary = people["grace"].pk, people["gary"].pk
    assert _caseload(client, "g.liu@example") == {grace}
    assert _caseload(client, "GARY@EXAMPLE.TEST") == {gary}
    # Initials: first name G…, last name L… (not Lena Grant: the order counts).
    assert _caseload(client, "GL") == {grace, gary}
    assert _caseload(client, "gl") == {grace, gary}
    assert _caseload(client, "G. Liu") == {grace}
    # Initials with dots are initials of either name, in any order.
    assert _caseload(client, "g. l.") == {grace, gary, people["lena"].pk}
    assert _caseload(client, "Liu") == {grace}
    assert _caseload(client, "Grace Liu") == {grace}
    assert _caseload(client, "Grace Lamb") == set()
    # Gina Lopez is another therapist's patient: no search reaches her.
    assert people["gina"].pk not in _caseload(client, "GL") | _caseload(client, "gina@example")


def test_a_clinic_admin_finds_every_match_in_the_clinic_and_none_outside_it(cast, people):
    elsewhere = _episode(cast.other_therapist, "Gwen", "Lee", "gwen@example.test")
    found = _caseload(signed_in_client(cast.admin), "GL")
    assert found == {people["grace"].pk, people["gary"].pk, people["gina"].pk}
    assert elsewhere.pk not in found
    assert _caseload(signed_in_client(cast.admin), "gwen@example.test") == set()


def test_the_patient_list_has_a_search_box_and_a_status_column(cast, people):
    invited = PatientFactory(
        therapist=cast.therapist, user__first_name="Ivy", user__last_name="Invited"
    )
    invited.user.set_unusable_password()  # as patient_create leaves it until the invitation
    invited.user.save()
    referred = people["gary"]
    Episode.objects.filter(pk=referred.pk).update(status=EpisodeStatus.REFERRED)
    client = signed_in_client(cast.therapist)

    html = client.get("/patients/").content.decode()
    assert 'role="search"' in html and 'name="q"' in html
    assert '<th scope="col">Status</th>' in html
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r">([^<>]+)</a></th>\s*<td>[^<]*</td>\s*<td>(.*?)</td>", html, re.S)
    }
    assert "Invited, no password yet" in rows["Ivy Invited"]
    assert "No episode yet" in rows["Ivy Invited"]
    assert "Signed up" in rows["Grace Liu"] and "Episode active" in rows["Grace Liu"]
    assert "Latest episode referred" in rows["Gary Lamb"]

    found = client.get("/patients/", {"q": "G. Liu"})
    assert [p.pk for p in found.context["patients"]] == [people["grace"].patient_id]
    assert "1 patient matches “G. Liu”" in found.content.decode()
    assert [p.pk for p in client.get("/patients/", {"q": "gl"}).context["patients"]] == [
        people["gary"].patient_id,
        people["grace"].patient_id,
    ]
    none = client.get("/patients/", {"q": "gina"}).content.decode()
    assert "No patient matches “gina”" in none


def test_the_episode_page_links_to_the_csv_and_fhir_exports(cast, people):
    episode = people["grace"]
    client = signed_in_client(cast.therapist)
    html = client.get(f"/episodes/{episode.pk}/").content.decode()
    csv_url = f"/api/v1/episodes/{episode.pk}/entries.csv"
    fhir_url = f"/api/v1/episodes/{episode.pk}/fhir/?format=fhir"
    assert f'href="{csv_url}" download>Export entries (CSV)</a>' in html
    assert f'href="{fhir_url}" download="episode-{episode.pk}-fhir.json">Export (FHIR)' in html
    # The buttons work with the page's own sign-in (the API accepts the session).
    response = client.get(csv_url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    fhir = client.get(fhir_url)
    assert fhir.status_code == 200 and fhir.json()["resourceType"] == "Bundle"
