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
# Locked on purpose by the look-alike test: nobody else signs in as them.
User.objects.create_user(
    "locked@riverside.test", "{password}", role=Role.CLINIC_ADMIN, clinic=clinic
)
User.objects.create_superuser("ops@installation.test", "{password}")
episodes = {{}}
for email, last_name in (
    ("a@riverside.test", "Quinterro"),
    ("c@riverside.test", "Castellane"),
    ("formula@riverside.test", "Hollis"),
):
    user = User.objects.create_user(
        email, "{password}", role=Role.PATIENT, clinic=clinic, first_name="Ada",
        last_name=last_name,
    )
    patient = Patient.objects.create(user=user, therapist=therapist)
    episode = Episode.objects.create(
        patient=patient, affected_side="left", start_date=dt.date.today() - dt.timedelta(days=20)
    )
    episodes[email] = {{"patient": patient.pk, "episode": episode.pk}}
print(json.dumps({{**episodes["a@riverside.test"], "people": episodes}}))
"""

DEEP_JSON = ("[" * 5000 + "]" * 5000).encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProductionSite, Any]]:
    # Every request comes from 127.0.0.1: the per-address rate (30 sign-ins a minute, tested in
    # test_throttling.py) is raised so that it does not mask the per-account answers under test.
    with production_site(
        tmp_path_factory.mktemp("attacks"), PAIS_AUTH_RATE_PER_MINUTE="10000"
    ) as running:
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
    assert _token(running, "locked@riverside.test").status == 200
    for _ in range(10):
        assert _token(running, "locked@riverside.test", "wrong-password-1").status in (400, 429)
    # The long s (NFKC: the same address, so the same lock) and the dotless i (another address,
    # which PostgreSQL's UPPER() used to fold onto this one).
    for look_alike in ("locked@riverside.te\u017ft", "locked@r\u0131verside.test"):
        answer = _token(running, look_alike)
        assert answer.status in (400, 429), (look_alike, answer.status, answer.text)
        assert "token" not in answer.json()
    assert _token(running, "locked@riverside.test").status == 429


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


def _api(running: ProductionSite, email: str) -> tuple[Any, dict[str, str]]:
    token = _token(running, email).json()["token"]
    return running.browser(), {"Authorization": f"Token {token}"}


def _post_json(browser: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return browser.request("POST", path, json_body=json.dumps(body).encode(), headers=headers)


def test_finding_2_staff_cannot_invite_an_active_patient_only_send_a_reset_email(site):
    running, ids = site
    api, auth = _api(running, "admin@riverside.test")
    patient = ids["patient"]
    invited = _post_json(api, f"/api/v1/patients/{patient}/invitation/", {}, auth)
    assert invited.status == 400, invited.text
    assert "password-reset" in " ".join(invited.json()["patient"])
    reset = _post_json(api, f"/api/v1/patients/{patient}/password-reset/", {}, auth)
    assert reset.status == 202, reset.text
    assert "/accounts/password/reset/" not in reset.text and "token" not in reset.json()
    # The patient's own token still works: nothing was taken over.
    mine, patient_auth = _api(running, "a@riverside.test")
    assert mine.request("GET", "/api/v1/episodes/", headers=patient_auth).status == 200


def test_finding_4_wrong_old_passwords_on_the_password_page_lock_the_account(site):
    running, _ = site
    browser = running.browser()
    assert browser.sign_in("c@riverside.test", PASSWORD).status == 302
    page = "/accounts/password/"
    browser.request("GET", page)
    new = {"new_password1": "a-fresh-ankle-phrase-7", "new_password2": "a-fresh-ankle-phrase-7"}
    for _ in range(10):
        wrong = browser.request("POST", page, form={"old_password": "not-it-at-all", **new})
        assert wrong.status in (200, 429)
    right = browser.request("POST", page, form={"old_password": PASSWORD, **new})
    assert right.status in (200, 429), right.status
    assert "Too many failed attempts" in right.text
    # The password did not change, and the lock holds for sign-in too.
    assert _token(running, "c@riverside.test").status == 429


def test_finding_6_out_of_window_dates_are_400s_and_stored_ones_break_no_page(site):
    running, ids = site
    api, auth = _api(running, "admin@riverside.test")
    episode = ids["people"]["formula@riverside.test"]["episode"]
    refused = _post_json(
        api,
        f"/api/v1/episodes/{episode}/interventions/",
        {"kind": "nsaid", "start_date": "0001-01-01", "end_date": "9999-12-31"},
        auth,
    )
    assert refused.status == 400, refused.text
    assert "start_date" in refused.json()
    # Rows that got in before the window existed are drawn, not trusted.
    running.run_script(
        "import datetime as dt\n"
        "from rehab.models import Intervention\n"
        f"Intervention.objects.create(episode_id={episode}, kind='nsaid',"
        " start_date=dt.date(1, 1, 1), end_date=dt.date(9999, 12, 31))\n"
        "print('ok')"
    )
    staff = running.browser()
    assert staff.sign_in("admin@riverside.test", PASSWORD).status == 302
    for path in (f"/episodes/{episode}/", f"/episodes/{episode}/report/", "/patients/"):
        assert staff.request("GET", path).status == 200, path
    pdf = staff.request("GET", f"/episodes/{episode}/report.pdf")
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")


def test_finding_7_the_patient_cannot_rewrite_the_diary_after_referral(site):
    running, _ = site
    ids = json.loads(
        running.run_script(
            "import datetime as dt, json\n"
            "from accounts.models import Patient, Role, User\n"
            "from rehab.models import Episode\n"
            "therapist = User.objects.get(email='therapist@riverside.test')\n"
            "user = User.objects.create_user('d@riverside.test', '"
            + PASSWORD
            + "', role=Role.PATIENT, clinic=therapist.clinic)\n"
            "patient = Patient.objects.create(user=user, therapist=therapist)\n"
            "episode = Episode.objects.create(patient=patient, affected_side='left',"
            " start_date=dt.date.today() - dt.timedelta(days=20))\n"
            "print(json.dumps({'episode': episode.pk}))"
        )
    )
    episode = ids["episode"]
    day = running.run_script("import datetime as dt; print(dt.date.today() - dt.timedelta(days=2))")
    patient, patient_auth = _api(running, "d@riverside.test")
    entry = f"/api/v1/episodes/{episode}/entries/{day}/"
    body = json.dumps({"pain_activity": 7, "pain_rest": 3}).encode()
    assert patient.request("PUT", entry, json_body=body, headers=patient_auth).status == 201
    staff, staff_auth = _api(running, "admin@riverside.test")
    today = running.run_script("import datetime as dt; print(dt.date.today())")
    referred = _post_json(
        staff, f"/api/v1/episodes/{episode}/referral/", {"date": today}, staff_auth
    )
    assert referred.status == 200, referred.text
    rewrite = json.dumps({"pain_activity": 2, "pain_rest": 0}).encode()
    answer = patient.request("PUT", entry, json_body=rewrite, headers=patient_auth)
    assert answer.status == 409, answer.text
    assert patient.request("DELETE", entry, headers=patient_auth).status == 409
    kept = patient.request("GET", entry, headers=patient_auth).json()
    assert kept["pain_activity"] == 7


def test_findings_9_and_10_the_admin_is_read_only_and_the_audit_csv_is_inert(site):
    running, ids = site
    episode = ids["episode"]
    operator = running.browser()
    assert operator.sign_in("ops@installation.test", PASSWORD).status == 302
    change = f"/admin/rehab/episode/{episode}/change/"
    assert operator.request("GET", change).status == 200
    forged = operator.request("POST", change, form={"affected_side": "right"})
    assert forged.status == 403
    side = running.run_script(
        f"from rehab.models import Episode; print(Episode.objects.get(pk={episode}).affected_side)"
    )
    assert side == "left"
    reads = running.run_script(
        "from accounts.models import AuditEvent; "
        "print(AuditEvent.objects.filter(action='admin.viewed').count())"
    )
    assert int(reads) >= 1
    # A formula-shaped address (valid RFC 5322) reaches the clinic's audit trail CSV inert.
    running.run_script(
        "from accounts.models import Clinic, Role, User; "
        "User.objects.create_user(\"=1+2+cmd|'/ccalc'!a0@evil.test\", '"
        + PASSWORD
        + "', role=Role.THERAPIST, clinic=Clinic.objects.get(slug='riverside')); print('ok')"
    )
    formula = running.browser()
    assert formula.sign_in("=1+2+cmd|'/ccalc'!a0@evil.test", PASSWORD).status == 302
    assert formula.request("GET", "/patients/").status == 200
    admin = running.browser()
    assert admin.sign_in("admin@riverside.test", PASSWORD).status == 302
    csv_answer = admin.request("GET", "/settings/audit/?format=csv")
    assert csv_answer.status == 200
    cells = [cell for line in csv_answer.text.splitlines() for cell in line.split(",")]
    assert any(cell.startswith("'=1+2+cmd") for cell in cells), csv_answer.text[:500]
    assert not any(cell.startswith("=") for cell in cells)
