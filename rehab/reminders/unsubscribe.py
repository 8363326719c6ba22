"""The signed token in every reminder email's unsubscribe link (RFC 8058 one-click).

The link must work without signing in (a mail provider posts to it on the patient's behalf), so
the token itself says whose reminders to stop: the patient's id, signed with the site's secret
under a salt of its own, so that no other signed value of the site can be replayed here. It does
not expire: an unsubscribe link in a months-old email should still work, and all it can ever do
is turn off that patient's reminder emails. A token that does not verify, or names nobody, is
answered the same way (404), so the link cannot be used to learn who is a patient.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from accounts.models import Patient

SALT = "rehab.reminders.unsubscribe"


def unsubscribe_token(patient: Patient) -> str:
    return signing.dumps(patient.pk, salt=SALT, compress=False)


def unsubscribe_url(patient: Patient) -> str:
    path = reverse("reminders-unsubscribe", kwargs={"token": unsubscribe_token(patient)})
    return f"{settings.SITE_URL}{path}"


def patient_for_token(token: str) -> Patient | None:
    try:
        patient_id = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(patient_id, int):
        return None
    return (
        Patient.objects.select_related("user").filter(pk=patient_id, user__is_active=True).first()
    )
