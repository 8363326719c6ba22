"""The attacks of issue 10 replayed on a production process: gunicorn, ``DJANGO_DEBUG=0``, a real
secret key, HTTPS behind a proxy, and PostgreSQL when the tests run on it (CI). Each test is the
outside view of a finding whose detailed tests live in the other ``test_attack_*`` modules; here
the question is only whether production settings change the answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.security.helpers import TOKEN, VERIFY
from tests.security.production import HOST, ProductionSite, production_site

_SETUP_PEOPLE = """
import datetime as dt, json
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import Clinic, Patient, Role, User
from rehab.models import Episode
clinic = Clinic.objects.create(name="Riverside", slug="riverside")
therapist = User.objects.create_user(
    "therapist@riverside.test", "{password}", role=Role.THERAPIST, clinic=clinic
)
TOTPDevice.objects.create(user=therapist, name="Authenticator app", confirmed=True)
admin = User.objects.create_user(
    "admin@riverside.test", "{password}", role=Role.CLINIC_ADMIN, clinic=clinic
)
patient_user = User.objects.create_user(
    "a@riverside.test", "{password}", role=Role.PATIENT, clinic=clinic,
    first_name="Ada", last_name="Quinterro",
)
patient = Patient.objects.create(user=patient_user, therapist=therapist)
episode = Episode.objects.create(
    patient=patient, affected_side="left", start_date=dt.date.today() - dt.timedelta(days=20)
)
print(json.dumps({{"patient": patient.pk, "episode": episode.pk}}))
"""

DEEP_JSON = ("[" * 5000 + "]" * 5000).encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProductionSite, Any]]:
    with production_site(tmp_path_factory.mktemp("attacks")) as running:
        yield running, json.loads(running.run_script(_SETUP_PEOPLE.format(password=PASSWORD)))


def _token(running: ProductionSite, email: str, password: str = PASSWORD) -> Any:
    body = json.dumps({"email": email, "password": password}).encode()
    return running.browser().request("POST", TOKEN, json_body=body)


@pytest.mark.parametrize("authorization", ["x", "Bogus x", "Bearer x"])
def test_finding_1_a_password_and_any_header_open_nothing(site, authorization):
    running, ids = site
    browser = running.browser()
    signed_in = browser.sign_in("therapist@riverside.test", PASSWORD)
    assert signed_in.status == 302
    assert signed_in.location.startswith(VERIFY)
    assert browser.request("GET", VERIFY).status == 200
    headers = {"Authorization": authorization}
    episode, patient = ids["episode"], ids["patient"]
    for path in (
        "/patients/",
        "/alerts/",
        f"/episodes/{episode}/",
        f"/episodes/{episode}/report.pdf",
        f"/patients/{patient}/",
        "/admin/",
        "/admin/login/",
    ):
        answer = browser.request("GET", path, headers=headers)
        assert answer.status == 302, (path, answer.status)
        assert answer.location.startswith(VERIFY), answer.location
        assert "Quinterro" not in answer.text
    for path in ("/api/v1/patients/", f"/api/v1/episodes/{episode}/"):
        answer = browser.request("GET", path, headers=headers)
        assert answer.status == 403, (path, answer.status)
        assert "Quinterro" not in answer.text
    created = browser.request(
        "POST",
        "/patients/new/",
        form={"email": "new@riverside.test", "first_name": "N", "last_name": "P"},
        headers=headers,
    )
    assert created.status == 302 and created.location.startswith(VERIFY)
    count = running.run_script(
        "from accounts.models import User; "
        "print(User.objects.filter(email='new@riverside.test').count())"
    )
    assert count == "0"


def test_finding_3_look_alike_addresses_do_not_dodge_the_lockout(site):
    running, _ = site
    assert _token(running, "admin@riverside.test").status == 200
    for _ in range(10):
        assert _token(running, "admin@riverside.test", "wrong-password-1").status in (400, 429)
    for look_alike in ("adm\u0131n@riverside.test", "admin@riverside.te\u017ft"):
        answer = _token(running, look_alike)
        assert answer.status in (400, 429), (look_alike, answer.status, answer.text)
        assert "token" not in answer.json()
    assert _token(running, "admin@riverside.test").status == 429


def test_finding_5_deeply_nested_json_is_a_400_without_a_traceback(site):
    running, ids = site
    api = running.browser()
    answer = api.request("POST", TOKEN, json_body=DEEP_JSON)
    assert answer.status == 400, answer.text
    assert "nested too deeply" in answer.text
    patient_token = _token(running, "a@riverside.test").json()["token"]
    entry = api.request(
        "PUT",
        f"/api/v1/episodes/{ids['episode']}/entries/2026-01-01/",
        json_body=DEEP_JSON,
        headers={"Authorization": f"Token {patient_token}"},
    )
    assert entry.status == 400, entry.text
    log = running.error_log.read_text()
    assert "RecursionError" not in log and "Traceback" not in log, log[-2000:]


# An invited patient (their link's token) and a patient with a password (a reset link).
_SEED_LINKS = r"""
import json
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from accounts.models import Patient, Role, User
from accounts.services import patient_create

therapist = User.objects.get(email="admin@riverside.test")
invited = patient_create(actor=therapist, email="i@log.test", first_name="I", last_name="N")
active = User.objects.create_user(
    email="p@log.test", password="a-long-password-2", role=Role.PATIENT, clinic=therapist.clinic
)
Patient.objects.create(user=active)
print(json.dumps({
    "invite": invited.invitation.token,
    "uid": urlsafe_base64_encode(force_bytes(active.pk)),
    "reset": default_token_generator.make_token(active),
}))
"""


def test_finding_8_no_log_holds_an_invitation_or_reset_token(site):
    running, _ = site
    seeded = json.loads(running.run_script(_SEED_LINKS))
    invite, uid, reset = seeded["invite"], seeded["uid"], seeded["reset"]
    unknown = "unknown-" + "Q" * 35
    browser = running.browser()
    assert browser.request("GET", f"/invite/{invite}/").status == 302
    assert browser.request("GET", f"/invite/{unknown}/").status == 404
    assert browser.request("GET", f"/accounts/password/reset/{uid}/{reset}/").status == 302
    referer = f"https://{HOST}/invite/{invite}/?token={reset}"
    leaky = browser.request("GET", f"/invite/{invite}/?token={reset}", headers={"Referer": referer})
    assert leaky.status == 302

    logs = {
        path.name: path.read_text()
        for path in (running.access_log, running.error_log, running.output_log)
    }
    # The requests were logged, with the secrets taken out.
    assert logs["access.log"].count("/invite/[redacted]/") >= 3, logs["access.log"]
    assert f"/accounts/password/reset/{uid}/[redacted]/" in logs["access.log"]
    assert "Not Found: /invite/[redacted]/" in logs["output.log"] + logs["error.log"]
    for name, text in logs.items():
        for secret in (invite, unknown, reset):
            assert secret not in text, f"{secret} in {name}:\n{text}"
