"""The referral letter: to whom, from whom, the reason first in plain words, the patient's
identifiers, no internal terms anywhere a person reads (English and Spanish, page and PDF), and
no heading left alone at the foot of a PDF page."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pypdfium2 as pdfium
import pytest

from accounts.models import Patient, User
from rehab.models import Episode
from reports.pdf import referral_pdf_layout
from reports.referral import referral_report
from tests.courses import stalled_trial
from tests.factories import InterventionFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

# Words and shapes that belong to the code, not to a letter: rule codes, evidence keys, coded
# values, ISO dates.
INTERNAL = re.compile(
    r"mcid|points_and_percent|percent_only|week1|baseline[ _]source|rom_reference"
    r"|REFERRAL_|FUNCTION_NOT|ADHERENCE_LOW|[a-z]+_[a-z]+|\b\d{4}-\d{2}-\d{2}\b|ruleset|#\d"
)


def _article_text(page: str) -> str:
    """What a person reads of the letter page: the article, without its chart data."""
    article = page[page.index("<article") : page.index("</article>")]
    article = re.sub(r"<script.*?</script>", " ", article, flags=re.S)
    article = re.sub(r"<[^>]+>", " ", article)
    return " ".join(html_lib.unescape(article).split())


def _pdf_text(body: bytes) -> str:
    document = pdfium.PdfDocument(body)
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return " ".join(text.split())


def _letter(user: User, episode: Episode) -> tuple[str, str]:
    client = signed_in_client(user)
    page = client.get(f"/episodes/{episode.pk}/report/").content.decode()
    body = client.get(f"/episodes/{episode.pk}/report.pdf").content
    return _article_text(page), _pdf_text(body)


def test_the_letter_says_to_whom_from_whom_and_why_first(cast):
    stalled_trial(cast.episode_a)
    text, pdf = _letter(cast.therapist, cast.episode_a)
    therapist = cast.therapist
    for medium in (text, pdf):
        assert "To The receiving surgeon" in medium  # not referred yet: a placeholder
        assert f"From {therapist.get_full_name()} Physical therapist Riverside Physio" in medium
        assert therapist.email in medium
        # The reason comes before everything else that is said about the patient.
        assert medium.index("Reason for referral") < medium.index("Name")
        assert medium.index("Reason for referral") < medium.index("Course of the trial")
        assert "Exercise adherence: 100% (adequate from 80%)." in medium
        assert "Plantar flexion: 32.0° on the affected side, 46.0° on the other side." in medium
    assert (
        "No clinically important improvement in activity pain after 7 weeks of adherent "
        "conservative care: 7.0 \u2192 6.0 (\u221214%), target \u2264 4.9." in text
    )
    # The PDF's font has no arrow: it says "to".
    assert "care: 7.0 to 6.0 (\u221214%), target \u2264 4.9." in pdf


def test_a_referred_patient_is_addressed_to_the_surgeon_with_the_therapists_note(cast):
    stalled_trial(cast.episode_a)
    episode = cast.episode_a
    Episode.objects.filter(pk=episode.pk).update(
        status="referred",
        referral_date=episode.start_date + dt.timedelta(days=44),
        referred_to="Ms Heel, foot and ankle surgeon",
        referral_note="Os trigonum on X-ray.",
    )
    text, pdf = _letter(cast.admin, episode)
    for medium in (text, pdf):
        assert "To Ms Heel, foot and ankle surgeon" in medium
        assert "after 6 weeks of adherent conservative care" in medium
        assert "Therapist's note: Os trigonum on X-ray." in medium
        assert medium.count("Os trigonum on X-ray.") == 1


def test_an_improving_patient_gets_no_reason_invented(cast):
    stalled_trial(cast.episode_a, days=30, pain=lambda n: 7 if n <= 7 else 2)
    text, _pdf = _letter(cast.therapist, cast.episode_a)
    assert "The rules do not call for a referral at this date" in text
    assert "Summary" in text and "Reason for referral" not in text
    assert "No clinically important improvement" not in text


@pytest.mark.parametrize("language", ["en", "es"])
def test_nothing_a_person_reads_is_an_internal_term(cast, language):
    stalled_trial(cast.episode_a)
    # An immobilization with an end date and a function finding: dates in the evidence.
    User.objects.filter(pk=cast.therapist.pk).update(language=language)
    cast.therapist.refresh_from_db()
    text, pdf = _letter(cast.therapist, cast.episode_a)
    episode_page = signed_in_client(cast.therapist).get(f"/episodes/{cast.episode_a.pk}/")
    words = _article_text(
        episode_page.content.decode().replace("<main", "<article").replace("</main>", "</article>")
    )
    for medium in (text, pdf, words):
        found = INTERNAL.findall(medium)
        assert found == [], (language, found)
    if language == "es":
        assert "Motivo de la derivación" in text
        # The arrow the PDF's font lacks is a word of the reader's language, not English "to".
        assert "7,0 \u2192 6,0" in text and "7,0 a 6,0" in pdf


def test_the_patients_identifiers_show_only_when_recorded(cast):
    stalled_trial(cast.episode_a)
    text, pdf = _letter(cast.therapist, cast.episode_a)
    for medium in (text, pdf):
        assert f"Name {cast.patient_a.user.get_full_name()}" in medium
        assert "Date of birth" not in medium and "Clinic record number" not in medium


@pytest.mark.skipif(
    not hasattr(Patient, "birth_date"), reason="the patient identifiers arrive on i16-fhir"
)
def test_the_patients_date_of_birth_sex_and_record_number_are_on_the_letter(cast):
    stalled_trial(cast.episode_a)
    Patient.objects.filter(pk=cast.patient_a.pk).update(
        birth_date=dt.date(1990, 3, 4), sex="female", mrn="RP-00042"
    )
    text, pdf = _letter(cast.therapist, cast.episode_a)
    today = cast.patient_a.local_today()
    age = today.year - 1990 - ((today.month, today.day) < (3, 4))
    for medium in (text, pdf):
        assert f"Date of birth 4 Mar 1990 (age {age})" in medium
        assert "Sex Female" in medium
        assert "Clinic record number RP-00042" in medium


# What takes no room of its own: spacing and ReportLab's page-break markers.
SPACING = {"Spacer", "NullActionFlowable", "_FrameBreak", "FrameBreak", "CondPageBreak"}


@pytest.mark.parametrize("interventions", range(0, 16))
def test_no_pdf_page_ends_with_a_heading(cast, interventions):
    """Each extra intervention row pushes what follows down, so that over the range every
    heading of the letter comes near the foot of a page at least once."""
    stalled_trial(cast.episode_a)
    for n in range(interventions):
        InterventionFactory(
            episode=cast.episode_a,
            kind="nsaid",
            start_date=cast.episode_a.start_date + dt.timedelta(days=n),
            note="Ibuprofen 400 mg three times a day with food, for ten days." * (n % 3 + 1),
        )
    report = referral_report(user=cast.therapist, episode_id=cast.episode_a.pk)
    placed = referral_pdf_layout(report)
    assert any(block.heading for block in placed)
    last_on_page = {}
    for block in placed:
        if block.kind not in SPACING:
            last_on_page[block.page] = block
    alone = [(page, block.text) for page, block in last_on_page.items() if block.heading]
    assert alone == []
