"""The offline diary's server side: the service worker at /sw.js, the offline page, and what the
entry page tells the script (docs/diary.md, "Offline diary"). The browser tests in
tests/browser/test_offline_diary.py run the whole in Chromium."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import sessions
from rehab import offline
from rehab.selectors import entry_etag
from tests.factories import DailyEntryFactory, PrescriptionFactory
from tests.security.helpers import sign_in

pytestmark = pytest.mark.django_db


def test_the_worker_is_served_from_the_root_as_uncached_javascript_under_a_policy(client_for, cast):
    for client in (Client(), client_for(cast.patient_a.user), client_for(cast.therapist)):
        response = client.get("/sw.js")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/javascript; charset=utf-8"
        assert response["Cache-Control"] == "no-cache"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy
        # At the root, the worker's default scope is the whole site: no Service-Worker-Allowed
        # header is needed (nor sent, which would widen it).
        assert "Service-Worker-Allowed" not in response
    assert reverse("service-worker") == "/sw.js"


def test_the_worker_stores_the_shell_under_this_deploys_version(db):
    body = Client().get("/sw.js").content.decode()
    version = offline.shell_version()
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert f'"version": "{version}",' in body
    for address in offline.shell_urls():
        assert f'"{address}"' in body
    assert 'importScripts("/static/js/offline-queue.js");' in body
    # The push handlers' template is part of the worker (the reminders work fills it).
    assert "Web Push" in body
    # No template syntax is left over.
    assert "{%" not in body and "{{" not in body


def test_a_changed_shell_file_changes_the_version(db, monkeypatch):
    before = offline.shell_version()
    monkeypatch.setattr(offline, "SHELL_STATIC", (*offline.SHELL_STATIC, "css/print.css"))
    assert offline._compute_version() != before


def test_the_worker_and_offline_page_open_for_a_session_that_ended(cast, client_for):
    for address in ("/sw.js", "/offline/"):
        client = client_for(cast.patient_a.user)
        session = client.session
        # Signed in long ago: the session policy ends it at the next request.
        session[sessions.SIGNED_IN_AT] = 0
        session.save()
        response = client.get(address)
        assert response.status_code == 200, address
        # Ended all the same: the next page goes to the sign-in page.
        assert client.get("/")["Location"].startswith("/accounts/login/")


def test_the_offline_page_holds_nobodys_data(cast, client_for):
    response = client_for(cast.patient_a.user).get("/offline/")
    html = response.content.decode()
    assert "You are offline" in html
    assert cast.patient_a.user.email not in html
    assert "Sign out" not in html and "csrf" not in html
    assert offline.OFFLINE_COPY_HEADER not in response


def test_the_patients_form_carries_what_the_script_needs(cast, client_for):
    today = cast.patient_a.local_today()
    heel = PrescriptionFactory(episode=cast.episode_a, sets=3)
    response = client_for(cast.patient_a.user).get("/")
    html = response.content.decode()
    assert response[offline.OFFLINE_COPY_HEADER] == "1"
    api = f"/api/v1/episodes/{cast.episode_a.pk}/entries/{today.isoformat()}/"
    assert f'data-entry-api="{api}"' in html
    assert f'data-entry-date="{today.isoformat()}"' in html
    assert 'data-entry-version=""' in html
    # The day's own dated address: "/" would be another day once midnight has passed.
    assert f'data-day-url="/log/{today.isoformat()}/"' in html
    assert f'<input type="hidden" name="entry_date" value="{today.isoformat()}">' in html
    assert f'data-prescription="{heel.pk}"' in html
    assert '<div id="entry-sync-status" role="status" aria-live="polite"></div>' in html
    assert '<meta name="csrf-token" content="' in html
    assert f'<meta name="pais-user" content="{cast.patient_a.user.pk}">' in html
    assert 'src="/static/js/offline-diary.js" data-worker="/sw.js"' in html
    assert 'id="offline-queue-notice"' in html


def test_the_form_shows_the_version_of_the_saved_entry(cast, client_for):
    day = cast.patient_a.local_today() - dt.timedelta(days=1)
    entry = DailyEntryFactory(episode=cast.episode_a, date=day)
    html = client_for(cast.patient_a.user).get(f"/log/{day.isoformat()}/").content.decode()
    # The ETag's quotes are escaped in the attribute; the browser reads them back as quotes.
    assert f'data-entry-version="{entry_etag(entry).replace(chr(34), "&quot;")}"' in html


def test_no_other_page_may_be_kept_offline(cast, client_for):
    staff = client_for(cast.therapist)
    for address in ("/", "/patients/"):
        response = staff.get(address)
        assert offline.OFFLINE_COPY_HEADER not in response, address
        assert "offline-diary.js" not in response.content.decode()
    patient = client_for(cast.patient_a.user)
    for address in ("/history/", f"/episodes/{cast.episode_a.pk}/"):
        response = patient.get(address, follow=True)
        assert offline.OFFLINE_COPY_HEADER not in response, address
    # A POST's answer (an error page) is not kept either.
    assert offline.OFFLINE_COPY_HEADER not in patient.post("/", {"pain_activity": "11"})


def test_saved_after_an_api_save_shows_the_pages_message(cast, client_for):
    today = cast.patient_a.local_today()
    client = client_for(cast.patient_a.user)
    assert "Saved your entry" not in client.get("/?saved=created").content.decode()
    DailyEntryFactory(episode=cast.episode_a, date=today)
    html = client.get("/?saved=created").content.decode()
    assert "Saved your entry for today. Thank you!" in html
    yesterday = today - dt.timedelta(days=1)
    DailyEntryFactory(episode=cast.episode_a, date=yesterday)
    html = client.get(f"/log/{yesterday.isoformat()}/?saved=replaced").content.decode()
    assert f"Updated your entry for {yesterday:%A %-d %B}. Thank you!" in html


def test_a_changed_worker_template_changes_the_version(db, settings, tmp_path):
    before = offline._compute_version()
    copy = tmp_path / "pwa"
    copy.mkdir()
    for name in ("sw.js", "sw_push.js", "offline.html"):
        text = (offline.settings.BASE_DIR / "templates" / "pwa" / name).read_text()
        (copy / name).write_text(text + ("\n// changed" if name == "sw_push.js" else ""))
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    assert offline._compute_version() != before


def test_the_worker_and_offline_page_open_while_two_factor_is_owed(cast):
    admin = Client()
    admin.force_login(cast.admin)
    assert admin.post("/settings/security/", {"require_two_factor": "on"}).status_code == 302
    therapist = Client()
    assert sign_in(therapist, cast.therapist.email).status_code == 302
    # The second step is owed: pages go to it, the worker's files do not.
    assert therapist.get("/patients/")["Location"].startswith("/accounts/two-factor/")
    for address in ("/sw.js", "/offline/"):
        assert therapist.get(address).status_code == 200, address
