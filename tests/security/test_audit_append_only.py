"""Audit rows are append-only: no edit or delete path, in the ORM, the admin or (on PostgreSQL)
raw SQL; and deleting a user leaves the rows that name them untouched."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from accounts.audit import audit_record
from accounts.models import AuditEvent, AuditTrailIsAppendOnly, User
from tests.factories import TherapistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(cast) -> AuditEvent:
    return audit_record(
        actor=cast.therapist,
        action="episode.viewed",
        obj=cast.episode_a,
        patient_id=cast.patient_a.pk,
    )


def _unchanged(row: AuditEvent) -> None:
    fresh = AuditEvent.objects.get(pk=row.pk)
    assert (fresh.action, fresh.actor_id, fresh.object_id) == (
        "episode.viewed",
        row.actor_id,
        row.object_id,
    )


def test_a_saved_row_cannot_be_saved_again(row):
    row.action = "nothing.happened"
    with pytest.raises(AuditTrailIsAppendOnly):
        row.save()
    _unchanged(row)


def test_a_row_cannot_be_deleted(row):
    with pytest.raises(AuditTrailIsAppendOnly):
        row.delete()
    _unchanged(row)


def test_bulk_update_and_delete_are_refused(row):
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=row.pk).update(action="nothing.happened")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    # bulk_update runs its updates in a transaction without a savepoint: give it one.
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([row], ["action"])
    _unchanged(row)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET action = 'nothing.happened'",
        "UPDATE accounts_auditevent SET actor_id = NULL",
        "DELETE FROM accounts_auditevent",
    ],
)
def test_raw_sql_cannot_change_rows_on_postgresql(row, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    _unchanged(row)


def test_the_trigger_exists_on_postgresql_only():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts_auditevent'::regclass "
                "AND NOT tgisinternal"
            )
            assert [name for (name,) in cursor.fetchall()] == ["accounts_auditevent_append_only"]
        else:
            assert connection.vendor == "sqlite"
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert cursor.fetchall() == []


def test_deleting_a_user_keeps_the_rows_that_name_them(cast):
    # Not a product path (patients are erased by anonymising, staff are deactivated), but an
    # operator may delete an account in the admin: the trail must not lose or rewrite its rows.
    someone = TherapistFactory(clinic=cast.clinic)
    kept = audit_record(actor=someone, action="episode.viewed", obj=cast.episode_a)
    someone_id = someone.pk
    someone.delete()
    assert not User.objects.filter(pk=someone_id).exists()
    fresh = AuditEvent.objects.get(pk=kept.pk)
    assert fresh.actor_id == someone_id


@pytest.fixture
def operator(db) -> Client:
    user = User.objects.create_superuser("ops@example.test", "a-long-operator-passphrase")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_rows_but_offers_no_change_or_delete(row, operator):
    base = "/admin/accounts/auditevent/"
    listing = operator.get(base)
    assert listing.status_code == 200
    assert "episode.viewed" in listing.content.decode()
    assert "delete_selected" not in listing.content.decode()
    assert operator.get(f"{base}add/").status_code == 403
    # The change page is read-only (view permission only): posting to it is refused.
    assert operator.get(f"{base}{row.pk}/change/").status_code == 200
    response = operator.post(f"{base}{row.pk}/change/", {"action": "nothing.happened"})
    assert response.status_code == 403
    assert operator.get(f"{base}{row.pk}/delete/").status_code == 403
    assert operator.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = operator.post(base, {"action": "delete_selected", "_selected_action": [row.pk]})
    assert bulk.status_code in (200, 302)
    _unchanged(row)
