"""The referral report: the printable page and the PDF, their content, reach and audit."""

from __future__ import annotations

import datetime as dt

import pypdfium2 as pdfium
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from rehab import rules
from rehab.models import Episode, EpisodeStatus
from tests.courses import stalled_trial
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


def _page(episode: Episode) -> str:
    return f"/episodes/{episode.pk}/report/"


def _pdf(episode: Episode) -> str:
    return f"/episodes/{episode.pk}/report.pdf"


def _no_store(response) -> bool:
    return "no-store" in response["Cache-Control"]


# --- The page --------------------------------------------------------------------------------


def test_the_page_shows_details_timeline_measures_findings_sources_and_charts(cast):
    stalled_trial(cast.episode_a)
    response = signed_in_client(cast.therapist).get(_page(cast.episode_a))
    assert response.status_code == 200
    assert _no_store(response)
    html = response.content.decode()
    patient = cast.patient_a.user.get_full_name()
    assert f"The course of the conservative trial of {patient}, right ankle" in html
    assert "Posterior ankle impingement: os trigonum" in html
    assert cast.therapist.get_full_name() in html
    assert "Riverside Physio" in html
    # The timeline: start, the review day (past on day 50) and the overdue day (planned).
    assert "Reassessment (review day)" in html
    assert 'Referral due at the latest <span class="small">(planned)</span>' in html
    # Measures, rounded and worded as on the episode page (rehab/numbers.py): baseline 7.0,
    # current 6.0, change −1.0 point (−14%), adherence 100%, ROM deficit 14.0°.
    assert "<strong>7.0/10</strong>" in html
    assert "<strong>6.0/10</strong>" in html
    assert "<strong>\u22121.0 point (\u221214%)</strong>" in html
    assert "<strong>100%</strong>" in html
    assert "<strong>14.0°</strong>" in html
    assert "target 4.9/10 or less" in html
    # The finding that matters, with its evidence and where the numbers come from.
    assert "Consider referral for a surgical opinion" in html
    assert "REFERRAL_CONSIDER" not in html  # codes are not words a reader knows
    assert "baseline activity pain: 7.0" in html
    assert 'href="https://doi.org/10.1016/s0304-3959(01)00349-9"' in html
    assert "Salaffi et al., Eur J Pain 2004" in html
    assert "doi:10.7547/21-001" in html  # Cengiz 2023, the share resolved conservatively
    assert "Clinical treatment summary of posterior ankle impingement" in html
    # ROM_DEFICIT cites the goniometry reliability note and the healthy-side reference.
    assert "Heel-rise and goniometry reliability study" in html
    # Interventions, prescriptions and the charts partial (three figures as JSON blocks).
    assert "Walking boot for a flare-up" in html
    assert "Double-leg heel raises" in html
    for key in ("pain", "rom", "adherence"):
        assert f'id="report-{key}-data" type="application/json"' in html
    # The footer: when, which ruleset, and that it does not replace clinical judgement.
    assert "Generated on" in html
    assert f"decision rules version {rules.RULESET_VERSION}" in html
    assert "does not replace, clinical judgement" in html
    assert f'href="/episodes/{cast.episode_a.pk}/report.pdf"' in html


def test_the_page_uses_no_inline_script_or_style(cast):
    stalled_trial(cast.episode_a, days=20)
    html = signed_in_client(cast.admin).get(_page(cast.episode_a)).content.decode()
    # CSP comes later (issue 5): data travels in JSON blocks, code and styles in static files.
    for chunk in html.split("<script")[1:]:
        head = chunk.partition(">")[0]
        assert "src=" in head or 'type="application/json"' in head, head
    assert " style=" not in html


def test_a_referred_episode_is_reported_as_it_stood_when_it_was_referred(cast):
    episode = cast.episode_a
    stalled_trial(episode, days=60)
    referral = episode.start_date + dt.timedelta(days=49)  # day 50
    Episode.objects.filter(pk=episode.pk).update(
        status=EpisodeStatus.REFERRED, referral_date=referral, referred_to="Mr Foot, orthopaedics"
    )
    html = signed_in_client(cast.therapist).get(_page(episode)).content.decode()
    assert "(the date of referral)" in html
    assert "day 50, week 8" in html
    # The rules give a referred episode no referral finding; the letter shows the one that
    # supported the referral, and says on which footing.
    assert "REFERRAL_CONSIDER" not in html
    assert "as the trial stood when the referral was made" in html
    assert "Referred on" in html and "Mr Foot, orthopaedics" in html
    # Day 56 lies after the referral: the trial never reached it.
    assert 'Referral due at the latest <span class="small">(not reached' in html


def test_the_episode_page_links_to_the_report_and_its_pdf(cast):
    html = signed_in_client(cast.therapist).get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    assert f'href="{_page(cast.episode_a)}"' in html
    assert f'href="{_pdf(cast.episode_a)}"' in html


def test_an_episode_without_entries_still_has_a_report(cast):
    response = signed_in_client(cast.therapist).get(_page(cast.episode_b))
    assert response.status_code == 200
    assert "unknown" in response.content.decode()
    pdf = signed_in_client(cast.therapist).get(_pdf(cast.episode_b))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")


def test_a_long_course_and_a_trial_not_yet_started_render_too(cast):
    stalled_trial(cast.episode_a, days=230, sets_done=lambda n: n % 4)
    future = cast.episode_b
    future.start_date = future.patient.local_today() + dt.timedelta(days=3)
    future.save(update_fields=["start_date"])
    client = signed_in_client(cast.therapist)
    for episode in (cast.episode_a, future):
        response = client.get(_pdf(episode))
        assert response.status_code == 200
        assert len(pdfium.PdfDocument(response.content)) >= 2


# --- The PDF ---------------------------------------------------------------------------------


def test_the_pdf_is_an_attachment_that_is_not_cached_and_is_audited(cast):
    stalled_trial(cast.episode_a)
    response = signed_in_client(cast.therapist).get(_pdf(cast.episode_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="referral-episode-{cast.episode_a.pk}-{today}.pdf"'
    )
    assert _no_store(response)
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    event = AuditEvent.objects.get(action="report.exported")
    assert event.actor == cast.therapist
    assert event.object_type == "rehab.episode"
    assert event.object_id == str(cast.episode_a.pk)
    assert event.patient_id == cast.patient_a.pk
    assert event.clinic_id == cast.clinic.pk


def test_the_pdf_first_page_is_drawn_and_says_what_it_is(cast, tmp_path):
    stalled_trial(
        cast.episode_a,
        # A note with markup and an arrow: escaped, and drawn in words the font has.
        note=lambda n: "<b>stairs</b> hurt → less" if n == 3 else "",
    )
    Episode.objects.filter(pk=cast.episode_a.pk).update(
        referral_note="Referred <urgent> & with images"
    )
    body = signed_in_client(cast.admin).get(_pdf(cast.episode_a)).content
    pdf = pdfium.PdfDocument(body)
    assert len(pdf) >= 2
    page = pdf[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    image = page.render(scale=1).to_pil().convert("L")
    image.save(tmp_path / "page1.png")
    histogram = image.histogram()  # pixel counts by grey level, 0 (black) to 255 (white)
    inked = sum(histogram[:200]) / sum(histogram)
    # Text, tables and the pain chart: a blank or nearly blank page is far below 2%.
    assert inked > 0.02, inked
    text = " ".join(page.get_textpage().get_text_range().split())  # lines wrap
    assert "Referral letter: posterior ankle impingement" in text
    # The reason comes first, on the first page, before the patient's details.
    assert text.index("Reason for referral") < text.index("Patient")
    assert (
        "No clinically important improvement in activity pain after 7 weeks of adherent "
        "conservative care: 7.0 to 6.0 (\u221214%), target \u2264 4.9." in text
    )
    assert "Therapist's note: Referred <urgent> & with images" in text
    assert cast.patient_a.user.get_full_name() in text
    assert "Consider referral" in text
    assert "Course of the trial" in text
    assert "7.0/10" in text and "6.0/10" in text
    rest = "".join(pdf[i].get_textpage().get_text_range() for i in range(1, len(pdf)))
    assert "REFERRAL_CONSIDER" not in rest
    assert "doi:10.1016/s0304-3959(01)00349-9" in rest
    assert "Plantar flexion" in rest
    assert "Exercise adherence by week" in rest
    assert "does not replace, clinical judgement" in rest


# --- Reach -----------------------------------------------------------------------------------

# The letter is a clinical document: staff in reach only; everybody else gets a 404.
EXPECTED = {
    "therapist": 200,
    "admin": 200,
    "therapist_2": 404,
    "other_therapist": 404,
    "patient_a": 404,
    "patient_b": 404,
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_reach(cast, persona):
    client = signed_in_client(getattr(cast, persona))
    for address in (_page(cast.episode_a), _pdf(cast.episode_a)):
        assert client.get(address).status_code == EXPECTED[persona], address
    exported = AuditEvent.objects.filter(action="report.exported").count()
    assert exported == (1 if EXPECTED[persona] == 200 else 0)


def test_another_clinics_episode_and_unknown_ids_are_404(cast):
    client = signed_in_client(cast.admin)
    assert client.get(_page(cast.other_episode)).status_code == 404
    assert client.get(_pdf(cast.other_episode)).status_code == 404
    assert client.get("/episodes/999999/report/").status_code == 404


def test_anonymous_callers_are_sent_to_sign_in(cast):
    response = Client().get(_pdf(cast.episode_a))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
