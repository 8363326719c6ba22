"""One episode, every medium, the same figures (issue 14, point 9).

The episode page (its Progress facts, evidence line and chart captions), the referral report
(the page and the PDF's text) and the alert email are rendered for one episode whose figures
need rounding (baseline 46/7 = 6.571…, current 40/7 = 5.714…), and every figure is compared: one
rounding and one wording each, from rehab/numbers.py.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
from django.core import mail

from rehab.evaluation import evaluate_episode
from rehab.models import Delivery
from rehab.notify.sender import send_delivery
from tests.courses import stalled_trial
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

WEEK_ONE = (6, 7, 7, 6, 7, 7, 6)  # baseline 46/7 = 6.571…
LAST_WEEK = {54: 5, 56: 5}  # days 52-58: 6,6,5,6,5,6,6 → 40/7 = 5.714…


def _pain(n: int) -> int:
    return WEEK_ONE[n - 1] if n <= 7 else LAST_WEEK.get(n, 6)


def _text(html: str) -> str:
    # What a reader sees: the charts' data (JSON for plotly, hover values) is left out.
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join(text.replace("&nbsp;", " ").replace("&#x27;", "'").split())


# The rules' 2-decimal figures and the old "16.06° to 45.06°" wording must appear nowhere.
UNROUNDED = ("6.57", "5.71", "0.86", "13.04", "32.00", "46.00")


@pytest.fixture
def episode(cast):
    # Day 58 today, past the overdue day: REFERRAL_OVERDUE (critical), with an email.
    stalled_trial(cast.episode_a, days=58, pain=_pain, sets_done=lambda n: 2 if n % 5 == 0 else 3)
    evaluate_episode(episode_id=cast.episode_a.pk, as_of=cast.patient_a.local_today())
    return cast.episode_a


def test_page_caption_report_pdf_and_email_show_the_same_figures(cast, episode):
    client = signed_in_client(cast.therapist)
    page = _text(client.get(f"/episodes/{episode.pk}/").content.decode())
    report = _text(client.get(f"/episodes/{episode.pk}/report/").content.decode())
    pdf = pdfium.PdfDocument(client.get(f"/episodes/{episode.pk}/report.pdf").content)
    pdf_text = " ".join(
        " ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))
    )

    # The episode page: the Progress facts.
    assert "Baseline pain 6.6/10" in page
    assert "Current pain (last 7 days) 5.7/10" in page
    assert "Change \u22120.9 points (\u221213%)" in page
    assert "Adherence 94%" in page
    assert "deficit 14.0° (sore side 32.0° vs other side 46.0°)" in page
    # …its findings' evidence, in the same rounding…
    assert "baseline activity pain: 6.6" in page and "activity pain, last 7 days: 5.7" in page
    assert "change in activity pain: \u22120.9 points (\u221213%)" in page
    assert "plantar flexion deficit: 14.0°" in page
    # …and the pain chart's caption: the same fall, from the same baseline to the same mean.
    assert (
        "Pain during activity fell by 0.9 points, from a baseline of 6.6 to a 7-day mean of 5.7 "
        "on day 58" in page
    )

    # The referral report, as a page and as a PDF: the same figures in the same words.
    for medium in (report, pdf_text):
        assert "6.6/10" in medium and "5.7/10" in medium
        assert "\u22120.9 points (\u221213%)" in medium
        assert "94%" in medium
        assert "14.0°" in medium and "46.0°" in medium and "32.0°" in medium
        assert "activity pain, last 7 days: 5.7" in medium
    for medium in (page, report, pdf_text):
        for unrounded in UNROUNDED:
            assert unrounded not in medium, (unrounded, medium)
        assert "nothing prescribed" not in medium  # there is a prescription

    # The alert email names the alert and its severity in the page's words, and (on purpose,
    # docs/security.md) carries no clinical figure at all: nothing there can disagree.
    delivery = Delivery.objects.get(alert__episode=episode, channel="email")
    assert send_delivery(delivery.pk).result == "delivered"
    (message,) = mail.outbox
    assert "Referral for a surgical opinion overdue" in page
    assert "Referral for a surgical opinion overdue" in message.body
    assert "Critical" in message.body
    for figure in ("6.6", "5.7", "0.9", "13%", "94%", "14.0", *UNROUNDED):
        assert figure not in message.body


def test_nothing_prescribed_is_said_only_without_a_prescription(cast, episode):
    # The same episode with its prescription starting today, after every logged day: no sets
    # were due, but something is prescribed, so the Progress does not say "nothing prescribed"
    # (the adherence chart still says it of each past week, where it is true).
    episode.prescriptions.update(start_date=cast.patient_a.local_today())
    episode.entries.filter(date=cast.patient_a.local_today()).delete()
    page = _text(signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode())
    assert "Adherence no sets due on the days logged" in page
    assert "Adherence nothing prescribed" not in page

    episode.prescriptions.all().delete()
    page = _text(signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode())
    assert "Adherence nothing prescribed" in page
