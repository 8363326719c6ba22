"""The referral follow-up pages: /referrals/, the episode page's panel, correct and withdraw; and
the caseload's "Referred" tab in place of a filter that never matched."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from rehab.models import EpisodeStatus, ReferralChange, ReferralFollowUp
from tests.pages.helpers import unlabelled
from tests.referrals.helpers import refer

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapist(cast, client_for):
    return client_for(cast.therapist)


def test_caseload_has_a_referred_tab_and_no_referred_filter(cast, therapist):
    html = therapist.get("/").content.decode()
    assert 'href="/referrals/"' in html
    assert '<option value="referred"' not in html
    # An old bookmark with the filter lists the caseload unfiltered instead of nothing.
    response = therapist.get("/", {"recommendation": "referred"})
    assert response.context["caseload"].filters.recommendation == ""


def test_referrals_page_lists_referred_patients_with_days_and_due_marker(cast, api, therapist):
    late = refer(api, cast.therapist, cast.episode_a, days_ago=15)
    recent = refer(api, cast.therapist, cast.episode_b, days_ago=3)
    other = refer(api, cast.other_therapist, cast.other_episode, days_ago=20)

    response = therapist.get("/referrals/")
    assert response.status_code == 200
    html = response.content.decode()
    rows = [row.episode.pk for row in response.context["page"].object_list]
    assert rows == [late.pk, recent.pk]  # follow-up due first
    assert other.pk not in rows and str(cast.other_patient) not in html
    assert "15 days ago" in html and "3 days ago" in html
    assert html.count('<span class="flag">Follow-up due</span>') == 1
    assert "Mr Okafor, foot and ankle surgeon" in html
    assert f'href="/episodes/{late.pk}/#referral-title"' in html
    assert AuditEvent.objects.filter(
        action="referrals.listed", actor=cast.therapist, item_count=2
    ).exists()

    due = therapist.get("/referrals/", {"show": "due"})
    assert [row.episode.pk for row in due.context["page"].object_list] == [late.pk]
    nothing = therapist.get("/referrals/", {"show": "outcome"}).content.decode()
    assert "No referral matches this filter." in nothing


def test_referrals_page_for_patients_is_403_and_for_nobodys_therapist_empty(cast, client_for):
    assert client_for(cast.patient_a).get("/referrals/").status_code == 403
    html = client_for(cast.therapist_2).get("/referrals/").content.decode()
    assert "No referred patients." in html


def test_episode_panel_records_appointment_and_outcome(cast, api, therapist):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    today = episode.patient.local_today()
    page = therapist.get(f"/episodes/{episode.pk}/")
    html = page.content.decode()
    assert 'id="referral-title"' in html and "10 days ago" in html
    assert f'action="/episodes/{episode.pk}/referral/follow-up/"' in html
    assert unlabelled(page) == []

    response = therapist.post(
        f"/episodes/{episode.pk}/referral/follow-up/",
        {
            "appointment_date": (today - dt.timedelta(days=2)).isoformat(),
            "outcome": "returned_to_conservative",
            "outcome_date": "",  # empty with an outcome: today
            "surgery_date": "",
            "note": "Surgeon advises six more weeks of physiotherapy.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/episodes/{episode.pk}/#referral-title"
    follow_up = ReferralFollowUp.objects.get(episode=episode)
    assert follow_up.outcome == "returned_to_conservative"
    assert follow_up.outcome_date == today
    assert follow_up.updated_by == cast.therapist
    html = therapist.get(f"/episodes/{episode.pk}/").content.decode()
    assert "Returned to conservative care" in html
    assert "Surgeon advises six more weeks of physiotherapy." in html
    assert "History of the referral (1 change)" in html


def test_follow_up_form_errors_come_back_next_to_their_fields(cast, api, therapist):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    response = therapist.post(
        f"/episodes/{episode.pk}/referral/follow-up/",
        {"outcome": "surgery_scheduled", "note": "Date to follow."},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "surgery_date" in form.errors
    assert form["note"].value() == "Date to follow."  # nothing typed is lost
    assert not ReferralFollowUp.objects.exists()


def test_follow_up_pages_reach(cast, api, client_for):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    for path in ("follow-up", "correct", "withdraw"):
        address = f"/episodes/{episode.pk}/referral/{path}/"
        assert client_for(cast.patient_a).get(address).status_code == 403
        assert client_for(cast.therapist_2).get(address).status_code == 404
        assert client_for(cast.other_therapist).post(address, {"reason": "x"}).status_code == 404
        assert client_for(cast.admin).get(address).status_code == 200
    assert ReferralChange.objects.count() == 0


def test_correct_page_needs_a_reason_then_keeps_the_old_values(cast, api, therapist):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    address = f"/episodes/{episode.pk}/referral/correct/"
    form = therapist.get(address).context["form"]
    assert form.initial["referred_to"] == "Mr Okafor, foot and ankle surgeon"
    data = {
        "date": episode.referral_date.isoformat(),
        "referred_to": "Ms Lindqvist, City Orthopaedics",
        "note": "",
    }
    refused = therapist.post(address, data)
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    response = therapist.post(address, {**data, "reason": "Referred to her, not him."})
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.referred_to == "Ms Lindqvist, City Orthopaedics"
    html = therapist.get(f"/episodes/{episode.pk}/").content.decode()
    assert "Referral corrected" in html and "Reason: Referred to her, not him." in html
    assert "Mr Okafor, foot and ankle surgeon → Ms Lindqvist, City Orthopaedics" in html


def test_withdraw_page_makes_the_episode_active_again(cast, api, therapist):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    address = f"/episodes/{episode.pk}/referral/withdraw/"
    assert "reason" in therapist.post(address, {"reason": ""}).context["form"].errors
    response = therapist.post(address, {"reason": "Recorded on the wrong episode."})
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.ACTIVE and episode.referral_date is None
    html = therapist.get(f"/episodes/{episode.pk}/").content.decode()
    assert "an earlier one was withdrawn" in html
    assert "Reason: Recorded on the wrong episode." in html
    rows = therapist.get("/").context["rows"]
    assert episode.pk in {row.episode_id for row in rows}
    assert therapist.get("/referrals/").context["page"].object_list == []
