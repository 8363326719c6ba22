"""Issue 10, item 9: the Django admin over patient data, and what an erasure leaves behind.

An operator (a superuser, signed in through the login page like everybody else) tries to add,
change and delete clinical records in /admin/: refused, the rows unchanged. Each changelist and
each change page of patient data they open writes one audit row (``admin.listed`` with the
number of rows shown, ``admin.viewed`` with the object and its patient), and editing a user's
role, clinic, email or access writes one too.

Then a patient with a distinctive name goes through a realistic course (invitation, episode,
six weeks of entries, an alert with its email and in-app deliveries, the operator looking them up
and correcting them in the admin) and is erased through the public interface; afterwards no
table of the database, read column by column (sessions decoded), holds their first name, last
name or email.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent, Invitation, Patient, User
from accounts.services import api_token_issue
from rehab.evaluation import evaluate_episode
from rehab.models import (
    Alert,
    DailyEntry,
    Delivery,
    Episode,
    InboxMessage,
    Intervention,
    Prescription,
    PushSubscription,
    ReminderLog,
)
from rehab.notify.outbox import alert_notifications_write
from rehab.notify.sender import send_delivery
from tests.alerts.factories import AlertFactory
from tests.conftest import PASSWORD
from tests.factories import (
    DailyEntryFactory,
    ExerciseLogFactory,
    InterventionFactory,
    PrescriptionFactory,
)
from tests.security.helpers import admin_user_form, sign_in

pytestmark = pytest.mark.django_db

OPERATOR = "ops@example.test"


@pytest.fixture
def operator() -> Client:
    User.objects.create_superuser(OPERATOR, PASSWORD)
    client = Client()
    assert sign_in(client, OPERATOR).status_code == 302
    assert client.get("/admin/").status_code == 200
    return client


@pytest.fixture
def records(cast) -> dict[str, Any]:
    """One row of every clinical model, all of patient A's."""
    episode = cast.episode_a
    prescription = PrescriptionFactory(episode=episode)
    entry = DailyEntryFactory(episode=episode, date=episode.start_date, note="stairs hurt")
    alert = AlertFactory(episode=episode)
    alert_notifications_write(alert=alert, event_type="alert.raised")
    send_delivery(Delivery.objects.get(alert=alert, channel="inbox").pk)
    return {
        "patient": cast.patient_a,
        "episode": episode,
        "prescription": prescription,
        "dailyentry": entry,
        "exerciselog": ExerciseLogFactory(entry=entry, prescription=prescription),
        "intervention": InterventionFactory(episode=episode),
        "alert": alert,
        "delivery": Delivery.objects.filter(alert=alert).first(),
        "inboxmessage": InboxMessage.objects.get(alert=alert),
        "reminderlog": ReminderLog.objects.create(patient=cast.patient_a, date=episode.start_date),
        "pushsubscription": PushSubscription.objects.create(
            patient=cast.patient_a, endpoint="https://push.example.com/a", p256dh="BA", auth="AA"
        ),
        "invitation": Invitation.objects.create(
            user=cast.patient_a.user,
            token_digest="0" * 64,
            expires_at=timezone.now() + dt.timedelta(days=7),
        ),
    }


CLINICAL = [
    "accounts.patient",
    "accounts.invitation",
    "rehab.episode",
    "rehab.prescription",
    "rehab.dailyentry",
    "rehab.exerciselog",
    "rehab.intervention",
    "rehab.alert",
    "rehab.delivery",
    "rehab.inboxmessage",
    "rehab.reminderlog",
    "rehab.pushsubscription",
]


def _admin_url(label: str, *tail: object) -> str:
    app, model = label.split(".")
    return "/".join(["/admin", app, model, *(str(part) for part in tail)]) + "/"


def _snapshot(obj: Any) -> dict[str, Any]:
    obj.refresh_from_db()
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


# --- The admin is read-only for clinical records ------------------------------------------------


@pytest.mark.parametrize("label", CLINICAL)
def test_an_operator_cannot_add_change_or_delete_clinical_records(operator, records, label):
    obj = records[label.split(".")[1]]
    before = _snapshot(obj)
    count = type(obj).objects.count()
    changelist = operator.get(_admin_url(label))
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert f'href="{_admin_url(label, "add")}"' not in page
    assert 'value="delete_selected"' not in page
    assert operator.get(_admin_url(label, "add")).status_code == 403
    assert operator.post(_admin_url(label, "add"), {"note": "=1+1"}).status_code == 403
    change = _admin_url(label, obj.pk, "change")
    assert operator.get(change).status_code == 200  # shown, read-only
    assert "Save and continue editing" not in operator.get(change).content.decode()
    forged = {field: "x" for field in before} | {"note": "rewritten", "status": "closed"}
    assert operator.post(change, forged).status_code == 403
    assert operator.get(_admin_url(label, obj.pk, "delete")).status_code == 403
    assert operator.post(_admin_url(label, obj.pk, "delete"), {"post": "yes"}).status_code == 403
    # The bulk delete action is not offered; asking for it anyway deletes nothing.
    operator.post(
        _admin_url(label),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert type(obj).objects.count() == count
    assert _snapshot(obj) == before


def test_inline_rows_under_an_episode_cannot_be_changed(operator, records):
    episode = records["episode"]
    intervention = records["intervention"]
    prescription = records["prescription"]
    response = operator.post(
        _admin_url("rehab.episode", episode.pk, "change"),
        {
            "interventions-TOTAL_FORMS": "1",
            "interventions-INITIAL_FORMS": "1",
            "interventions-0-id": str(intervention.pk),
            "interventions-0-episode": str(episode.pk),
            "interventions-0-DELETE": "on",
            "prescriptions-TOTAL_FORMS": "0",
            "prescriptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    assert Intervention.objects.filter(pk=intervention.pk).exists()
    assert Prescription.objects.filter(pk=prescription.pk).exists()


# --- Reads in the admin are audited -----------------------------------------------------------


@pytest.mark.parametrize("label", CLINICAL)
def test_each_admin_read_of_clinical_data_writes_one_audit_row(operator, records, cast, label):
    obj = records[label.split(".")[1]]
    shown = type(obj).objects.count()
    operator_user = User.objects.get(email=OPERATOR)

    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert operator.get(_admin_url(label)).status_code == 200
    (listed,) = AuditEvent.objects.exclude(pk__in=before)
    assert (listed.actor_id, listed.action, listed.object_type, listed.object_id) == (
        operator_user.pk,
        "admin.listed",
        label,
        "",
    )
    assert listed.item_count == shown

    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert operator.get(_admin_url(label, obj.pk, "change")).status_code == 200
    (viewed,) = AuditEvent.objects.exclude(pk__in=before)
    assert (viewed.actor_id, viewed.action, viewed.object_type, viewed.object_id) == (
        operator_user.pk,
        "admin.viewed",
        label,
        str(obj.pk),
    )
    assert viewed.patient_id == cast.patient_a.pk

    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert operator.get(_admin_url(label, obj.pk, "history")).status_code == 200
    (history,) = AuditEvent.objects.exclude(pk__in=before)
    assert (history.action, history.object_id) == ("admin.viewed", str(obj.pk))


def test_a_missing_object_in_the_admin_writes_no_read(operator, records):
    before = AuditEvent.objects.count()
    response = operator.get(_admin_url("rehab.episode", 999999, "change"))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert AuditEvent.objects.count() == before


def test_reading_a_patients_account_in_the_admin_is_audited(operator, cast):
    user = cast.patient_a.user
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert operator.get(_admin_url("accounts.user")).status_code == 200
    assert operator.get(_admin_url("accounts.user", user.pk, "change")).status_code == 200
    rows = AuditEvent.objects.exclude(pk__in=before).order_by("pk")
    assert [(r.action, r.object_type, r.object_id, r.patient_id) for r in rows] == [
        ("admin.listed", "accounts.user", "", None),
        ("admin.viewed", "accounts.user", str(user.pk), cast.patient_a.pk),
    ]


# --- Editing a user in the admin is audited ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "action"),
    [
        ({"role": "clinic_admin"}, "user.role_changed"),
        ("other clinic", "user.clinic_changed"),
        ({"email": "moved@riverside.test"}, "user.email_changed"),
        ({"is_staff": "on"}, "user.privileges_changed"),
        ({"last_name": "Renamed"}, "user.name_changed"),
    ],
)
def test_editing_a_user_in_the_admin_is_audited(operator, cast, change, action):
    user = cast.therapist_2
    changes = {"clinic": str(cast.other_clinic.pk)} if change == "other clinic" else change
    response = operator.post(
        _admin_url("accounts.user", user.pk, "change"), admin_user_form(user, **changes)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rows = AuditEvent.objects.filter(action=action)
    assert {(row.actor.email, row.object_type, row.object_id) for row in rows} == {
        (OPERATOR, "accounts.user", str(user.pk))
    }
    # A move is in both clinics' trails; any other change in the user's clinic's.
    clinics = (
        {cast.clinic.pk, cast.other_clinic.pk} if change == "other clinic" else {cast.clinic.pk}
    )
    assert sorted(row.clinic_id for row in rows) == sorted(clinics)


def test_reactivating_a_user_in_the_admin_is_audited(operator, cast):
    user = cast.therapist_2
    address = _admin_url("accounts.user", user.pk, "change")
    assert operator.post(address, admin_user_form(user, is_active=None)).status_code == 302
    assert AuditEvent.objects.filter(action="user.deactivated", object_id=str(user.pk)).exists()
    user.refresh_from_db()
    assert operator.post(address, admin_user_form(user)).status_code == 302
    assert AuditEvent.objects.filter(action="user.reactivated", object_id=str(user.pk)).exists()


def test_adding_a_user_in_the_admin_is_audited(operator, cast):
    response = operator.post(
        _admin_url("accounts.user", "add"),
        {
            "email": "new-therapist@riverside.test",
            "password1": "a-long-new-passphrase-1",
            "password2": "a-long-new-passphrase-1",
            "usable_password": "true",
            "role": "therapist",
            "clinic": str(cast.clinic.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new-therapist@riverside.test")
    row = AuditEvent.objects.get(action="user.created", object_id=str(user.pk))
    assert (row.actor.email, row.clinic_id) == (OPERATOR, cast.clinic.pk)


# --- Erasure leaves the name nowhere ------------------------------------------------------------

FIRST, LAST, EMAIL = "Zephyrine", "Quillfeather", "zephyrine.q@riverside.test"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:400])
    return response.json() if response.get("Content-Type", "").endswith("json") else response


def _course(cast: Any, api: Any, operator: Client) -> dict[str, Any]:
    """The patient is created and invited by the therapist, signs in, opens an episode with six
    weeks of stalled pain, raises an alert (email and inbox deliveries, sent); the operator looks
    them up in the admin and corrects their name there."""
    therapist = api(cast.therapist)
    created = _ok(
        therapist.post(
            "/api/v1/patients/",
            {"email": EMAIL, "first_name": FIRST, "last_name": LAST + "x"},
            format="json",
        ),
        201,
    )
    patient = Patient.objects.get(pk=created["id"])
    user = patient.user
    # The patient sets a password (the invitation step is another test's concern) and signs in
    # on the page, which leaves a session row behind.
    user.set_password(PASSWORD)
    user.save()
    patient_browser = Client()
    assert sign_in(patient_browser, EMAIL).status_code == 302
    # The operator looks the patient up and corrects the typo in the last name.
    _ok(operator.get(_admin_url("accounts.user"), {"q": FIRST}))
    _ok(operator.get(_admin_url("accounts.user", user.pk, "change")))
    _ok(operator.get(_admin_url("accounts.patient", patient.pk, "change")))
    user.refresh_from_db()
    _ok(
        operator.post(
            _admin_url("accounts.user", user.pk, "change"),
            admin_user_form(user, last_name=LAST, clinic=str(cast.clinic.pk), role="patient"),
        ),
        302,
    )
    today = dt.date.today()
    start = today - dt.timedelta(days=44)
    episode = _ok(
        therapist.post(
            "/api/v1/episodes/",
            {
                "patient": created["id"],
                "affected_side": "right",
                "start_date": start.isoformat(),
                "intake_pain_activity": 7,
                "intake_pf_rom_affected": 31,
                "intake_pf_rom_unaffected": 47,
            },
            format="json",
        ),
        201,
    )["id"]
    base = f"/api/v1/episodes/{episode}"
    for n in range(45):
        _ok(
            therapist.put(
                f"{base}/entries/{(start + dt.timedelta(days=n)).isoformat()}/",
                {"pain_activity": 7, "pain_rest": 3, "note": f"{FIRST} says stairs hurt"},
                format="json",
            ),
            201,
        )
    evaluate_episode(episode_id=episode, as_of=today)
    alert = Alert.objects.filter(episode_id=episode).first()
    assert alert is not None
    if not Delivery.objects.filter(alert=alert).exists():
        alert_notifications_write(alert=alert, event_type="alert.raised")
    for delivery in Delivery.objects.filter(alert=alert):
        send_delivery(delivery.pk)
    assert InboxMessage.objects.filter(alert=alert).exists()
    _ok(operator.get(_admin_url("rehab.episode", episode, "change")))
    _ok(operator.get(_admin_url("rehab.alert", alert.pk, "change")))
    # Rows the admin wrote before it became read-only for clinical records (operators could
    # edit episodes, entries and invitations in it then): their descriptions name the patient.
    ops = User.objects.get(email=OPERATOR)
    for obj, flag, message in (
        (Episode.objects.get(pk=episode), CHANGE, [{"changed": {"fields": ["Referral note"]}}]),
        (
            Episode.objects.get(pk=episode),
            CHANGE,
            [{"added": {"name": "intervention", "object": f"lift for {FIRST} {LAST}"}}],
        ),
        (DailyEntry.objects.filter(episode_id=episode).first(), CHANGE, []),
        (Invitation.objects.get(user=user), ADDITION, [{"added": {}}]),
        (patient, CHANGE, [{"changed": {"fields": ["Therapist"]}}]),
    ):
        assert obj is not None
        LogEntry.objects.create(
            user=ops,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            action_flag=flag,
            change_message=json.dumps(message),
        )
    return {"patient": patient.pk, "user": user.pk, "episode": episode}


def _text_columns_holding(needles: list[str]) -> list[str]:
    """Every table.column of the database (not only the models') whose value mentions a needle;
    session data is decoded first, as it is stored signed and base64-encoded."""
    found = []
    lowered = [needle.lower() for needle in needles]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608
            columns = [col[0] for col in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None or isinstance(value, int | float | bool):
                        continue
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    text = str(value)
                    if table == "django_session" and column == "session_data":
                        text = json.dumps(SessionStore().decode(text), default=str)
                    if any(needle in text.lower() for needle in lowered):
                        found.append(f"{table}.{column}")
    return sorted(set(found))


@pytest.mark.parametrize("through", ["page", "api"])
def test_erasure_leaves_the_name_and_email_in_no_table(cast, api, operator, through):
    ids = _course(cast, api, operator)
    # The course put the name and email in many places (or this test proves nothing).
    assert {"accounts_user.email", "django_admin_log.object_repr"} <= set(
        _text_columns_holding([FIRST, LAST, EMAIL])
    )
    if through == "page":
        admin = Client()
        admin.force_login(cast.admin)
        response = admin.post(f"/patients/{ids['patient']}/erase/", {"email": EMAIL})
        assert response.status_code == 302
    else:
        _ok(api(cast.admin).delete(f"/api/v1/patients/{ids['patient']}/"), 204)
    assert _text_columns_holding([FIRST, LAST, EMAIL]) == []
    # The admin's log keeps its rows (who did what, when), by id.
    about_episode = LogEntry.objects.filter(
        content_type__model="episode", object_id=str(ids["episode"])
    )
    assert set(about_episode.values_list("object_repr", "change_message")) == {
        (f"erased episode {ids['episode']}", "")
    }
    assert about_episode.count() == 2
    assert set(
        LogEntry.objects.filter(object_id=str(ids["user"]), content_type__model="user").values_list(
            "object_repr", flat=True
        )
    ) == {f"erased user {ids['user']}"}
    # The audit trail held ids only and keeps every row.
    assert AuditEvent.objects.filter(patient_id=ids["patient"], action="admin.viewed").exists()
    assert not DailyEntry.objects.filter(episode_id=ids["episode"]).exists()


def test_an_operator_cannot_hand_a_token_to_someone_else_only_revoke_it(operator, cast):
    """A token is a credential: reassigning one (or reviving a revoked one) in the admin would
    be an unaudited account takeover. The admin offers one audited action: revoke."""
    key = api_token_issue(user=cast.patient_a.user)
    token = ApiToken.objects.get(user=cast.patient_a.user)
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    moved = operator.post(url, {"user": cast.therapist.pk, "expires_at_0": "2099-01-01"})
    assert moved.status_code == 403
    assert (
        operator.post("/admin/accounts/apitoken/add/", {"user": cast.therapist.pk}).status_code
        == 403
    )
    token.refresh_from_db()
    assert token.user_id == cast.patient_a.user.pk

    revoked = operator.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        AuditEvent.objects.filter(
            action="api_token.revoked.by_operator", object_id=str(token.pk)
        ).count()
        == 1
    )
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/episodes/").status_code == 401
