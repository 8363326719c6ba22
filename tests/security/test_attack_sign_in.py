"""Issue 10, findings 3 and 4 and the "Also" paragraph: dodging the lockout, and what creating a
patient tells the caller about an address.

3. After 10 wrong passwords locked ``admin@...``, ``admın@...`` (U+0131, dotless i) and
   ``admin@....teſt`` (U+017F, long s) signed in with the right password on PostgreSQL: the
   lookup folded case with the database's ``UPPER()``, the lockout key with Python's
   ``lower()``. Addresses are now normalised by one function (NFKC + casefold,
   ``accounts.emails.normalize_email``) for storage, lookup and the lockout key, and looked up
   by equality. So ``ſ`` *is* ``s`` (the same account, and its lockout), while ``ı`` stays ``ı``:
   another address, which has no account.
4. The password-change page checked the old password outside the lockout.
Also: creating a patient with an address of another clinic's user said "already exists".

The lookalike attack only reproduced on PostgreSQL; these tests pass on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.test import Client
from rest_framework.test import APIClient

from accounts.emails import normalize_email
from accounts.models import ApiToken, AuditEvent, User
from tests.conftest import PASSWORD, Cast
from tests.security.helpers import TOKEN, sign_in

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1"
NEW_PASSWORD = "a-brand-new-passphrase-9"
PASSWORD_PAGE = "/accounts/password/"

# cast.admin is admin@riverside.test.
DOTLESS_I = "adm\u0131n@riverside.test"  # admın: casefolds to itself, another address
LONG_S = "admin@riverside.te\u017ft"  # teſt: NFKC makes it "test", the same address
CHANNELS = ["page", "token"]


def _attempt(channel: str, email: str, password: str) -> tuple[bool, Any]:
    """Sign in through the login page or the token endpoint; (signed in?, response)."""
    if channel == "page":
        client = Client()
        response = sign_in(client, email, password)
        return "_auth_user_id" in client.session, response
    response = APIClient().post(TOKEN, {"email": email, "password": password}, format="json")
    return response.status_code == 200, response


def _lock_message(response: Any) -> str:
    """The lock message a refused sign-in shows ("" when refused for bad credentials)."""
    if response.status_code == 429:
        return str(response.json()["detail"])
    if response.status_code == 400:  # the token endpoint's bad credentials
        return ""
    errors = [str(e) for e in response.context["form"].non_field_errors()]
    return next((e for e in errors if "locked" in e), "")


def _lock_by_failing(channel: str, email: str) -> None:
    for _ in range(10):
        signed_in, _response = _attempt(channel, email, WRONG)
        assert not signed_in


# --- Finding 3: look-alike addresses --------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_look_alike_addresses_do_not_dodge_the_lockout(cast: Cast, channel: str) -> None:
    _lock_by_failing(channel, cast.admin.email)
    signed_in, locked = _attempt(channel, cast.admin.email, PASSWORD)
    assert not signed_in and _lock_message(locked)

    # The long s is the same address: it gets the lock.
    signed_in, response = _attempt(channel, LONG_S, PASSWORD)
    assert not signed_in
    assert _lock_message(response) == _lock_message(locked)
    # The dotless i is another address, with no account: bad credentials.
    signed_in, response = _attempt(channel, DOTLESS_I, PASSWORD)
    assert not signed_in
    assert response.status_code in (200, 400) and not _lock_message(response)

    assert not ApiToken.objects.filter(user=cast.admin).exists()
    assert (
        AuditEvent.objects.filter(action="auth.locked_out", object_id=str(cast.admin.pk)).count()
        == 1
    )


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_dotless_i_never_signs_in_as_the_account(cast: Cast, channel: str) -> None:
    """Not locked, right password: ``admın@`` is not ``admin@`` (PostgreSQL's UPPER() said so)."""
    signed_in, _response = _attempt(channel, DOTLESS_I, PASSWORD)
    assert not signed_in
    assert not ApiToken.objects.filter(user=cast.admin).exists()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(
    "spelling",
    ["ADMIN@Riverside.TEST", "  admin@riverside.test ", LONG_S, "\uff41dmin@riverside.test"],
    ids=["upper-case", "spaces", "long-s", "full-width-a"],
)
def test_an_unlocked_account_signs_in_whatever_the_spelling(
    cast: Cast, channel: str, spelling: str
) -> None:
    signed_in, response = _attempt(channel, spelling, PASSWORD)
    assert signed_in, getattr(response, "content", b"")[:300]
    if channel == "page":
        assert response.wsgi_request.user == cast.admin


@pytest.mark.parametrize("channel", CHANNELS)
def test_failures_under_any_spelling_count_toward_the_same_lock(cast: Cast, channel: str) -> None:
    spellings = [
        "ADMIN@riverside.test",
        LONG_S,
        "Admin@Riverside.Te\u017ft",
        "\uff41dmin@riverside.test",
    ]
    for attempt in range(10):
        signed_in, _response = _attempt(channel, spellings[attempt % len(spellings)], WRONG)
        assert not signed_in
    signed_in, response = _attempt(channel, cast.admin.email, PASSWORD)
    assert not signed_in and _lock_message(response)


# --- Finding 4: the password-change page ----------------------------------------------------------


def _change_password(client: Client, old: str) -> Any:
    return client.post(
        PASSWORD_PAGE,
        {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def _old_password_errors(response: Any) -> list[str]:
    assert response.status_code == 200
    return [str(e) for e in response.context["form"].errors.get("old_password", [])]


def test_wrong_old_passwords_lock_the_account_like_sign_in_failures(cast: Cast) -> None:
    user = cast.patient_a.user
    client = Client()
    sign_in(client, user.email)
    assert "_auth_user_id" in client.session
    for _ in range(9):
        errors = _old_password_errors(_change_password(client, WRONG))
        assert errors and "locked" not in " ".join(errors)
    # The 10th wrong old password locks the account, as the 10th wrong sign-in would.
    tenth = _old_password_errors(_change_password(client, WRONG))
    assert len(tenth) == 1 and "locked" in tenth[0]
    # While locked the old password is not checked: the right one gets the same answer and
    # changes nothing.
    assert _old_password_errors(_change_password(client, PASSWORD)) == tenth
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(NEW_PASSWORD)
    # The same lock as sign-in's: the login page refuses the right password with that message.
    signed_in, response = _attempt("page", user.email, PASSWORD)
    assert not signed_in and _lock_message(response) == tenth[0]
    locked = AuditEvent.objects.filter(action="auth.locked_out", object_id=str(user.pk))
    assert locked.count() == 1
    assert locked.get().actor is None and locked.get().clinic_id == user.clinic_id


def test_the_password_page_and_sign_in_share_one_count(cast: Cast) -> None:
    user = cast.patient_a.user
    client = Client()
    client.force_login(user)
    for _ in range(9):
        signed_in, _response = _attempt("token", user.email, WRONG)
        assert not signed_in
    errors = _old_password_errors(_change_password(client, WRONG))
    assert len(errors) == 1 and "locked" in errors[0]
    signed_in, response = _attempt("token", user.email, PASSWORD)
    assert not signed_in and response.status_code == 429


def test_a_right_old_password_still_changes_it(cast: Cast) -> None:
    user = cast.patient_a.user
    client = Client()
    client.force_login(user)
    for _ in range(3):
        _change_password(client, WRONG)
    response = _change_password(client, PASSWORD)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


# --- Creating patients: look-alikes, and what the answer tells -----------------------------------

PATIENTS_API = "/api/v1/patients/"
PATIENT_PAGE = "/patients/new/"


def _create_by_api(client: APIClient, email: str) -> Any:
    return client.post(
        PATIENTS_API,
        {"email": email, "first_name": "Nora", "last_name": "Lind", "timezone": "UTC"},
        format="json",
    )


def _create_by_page(client: Client, email: str) -> Any:
    return client.post(
        PATIENT_PAGE,
        {"email": email, "first_name": "Nora", "last_name": "Lind", "timezone": "UTC"},
    )


@pytest.mark.parametrize(
    "email",
    [
        "A@RIVERSIDE.TEST",  # patient A, upper case
        "a@riverside.te\u017ft",  # patient A, long s
        DOTLESS_I,  # looks like the clinic admin; PostgreSQL's UPPER() folds it onto them
    ],
    ids=["upper-case", "long-s", "dotless-i"],
)
def test_a_look_alike_of_an_existing_address_is_refused_like_a_duplicate(
    cast: Cast, api: Any, email: str
) -> None:
    client = api(cast.therapist)
    users_before = User.objects.count()
    duplicate = _create_by_api(client, cast.patient_a.user.email)
    look_alike = _create_by_api(client, email)
    assert duplicate.status_code == 400 and list(duplicate.json()) == ["email"]
    assert look_alike.status_code == 400
    assert look_alike.content == duplicate.content
    assert User.objects.count() == users_before


def test_a_full_width_look_alike_is_refused_as_no_address(cast: Cast, api: Any) -> None:
    """Full-width letters are not an address to the API's email field: 400 before any lookup."""
    response = _create_by_api(api(cast.therapist), "\uff41@riverside.test")
    assert response.status_code == 400 and list(response.json()) == ["email"]
    assert not User.objects.filter(patient__isnull=False, email__startswith="\uff41").exists()
    assert User.objects.filter(email="a@riverside.test").count() == 1


def test_an_address_of_another_clinic_answers_exactly_like_any_unusable_address(
    cast: Cast, api: Any
) -> None:
    client = api(cast.therapist)
    unusable = {
        "another clinic's patient": cast.other_patient.user.email,
        "another clinic's therapist": cast.other_therapist.email,
        "a colleague": cast.therapist_2.email,
        "a patient of this clinic": cast.patient_b.user.email,
    }
    answers = {name: _create_by_api(client, email) for name, email in unusable.items()}
    bodies = {answer.content for answer in answers.values()}
    assert {answer.status_code for answer in answers.values()} == {400}
    assert len(bodies) == 1, bodies
    message = " ".join(answers["another clinic's patient"].json()["email"])
    # It says the address cannot be used, not that somebody has it.
    assert "cannot be used" in message
    assert "exist" not in message.lower() and "registered" not in message.lower()

    created = _create_by_api(client, "nora.lind@example.test")
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "nora.lind@example.test"


def test_the_staff_page_answers_another_clinics_address_like_any_unusable_one(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.admin)
    errors = {}
    for email in (
        cast.other_patient.user.email,
        cast.patient_b.user.email,
        "A@Riverside.Te\u017ft",
    ):
        response = _create_by_page(client, email)
        assert response.status_code == 200
        errors[email] = response.context["form"].errors.get_json_data()
    assert len({repr(e) for e in errors.values()}) == 1, errors
    assert "cannot be used" in repr(next(iter(errors.values())))
    response = _create_by_page(client, "Nora.Lind@Example.TEST")
    assert response.status_code == 200 and "invite_url" in response.context
    assert User.objects.filter(email="nora.lind@example.test").exists()


# --- Storage: one normalisation, and the migration that applied it ------------------------------


def test_every_way_of_storing_an_address_normalises_it(cast: Cast) -> None:
    made = User.objects.create_user(email="  Ｎora@Example.TE\u017fT ", role="")
    assert made.email == "nora@example.test"
    cast.therapist.email = "Therapist@RIVERSIDE.test"
    cast.therapist.save()
    cast.therapist.refresh_from_db()
    assert cast.therapist.email == "therapist@riverside.test"
    for text in ("Straße@x.test", "adm\u0131n@x.test", "ＡＢＣ@Ｘ.test", " a@b.c\u00a0"):
        once = normalize_email(text)
        assert normalize_email(once) == once


def _migration() -> Any:
    return importlib.import_module("accounts.migrations.0004_normalise_emails")


def test_the_migration_normalises_stored_addresses(cast: Cast) -> None:
    # Rows written before normalisation (bypassing save(), as old code or the admin could).
    User.objects.filter(pk=cast.therapist.pk).update(email="Therapist@Riverside.TE\u017fT")
    _migration().normalise_emails(django_apps, None)
    cast.therapist.refresh_from_db()
    assert cast.therapist.email == "therapist@riverside.test"


def test_the_migration_refuses_to_merge_two_accounts(cast: Cast) -> None:
    User.objects.filter(pk=cast.therapist_2.pk).update(email="THERAPIST@riverside.test")
    with pytest.raises(RuntimeError) as refused:
        _migration().normalise_emails(django_apps, None)
    text = str(refused.value)
    assert "therapist@riverside.test" in text and "THERAPIST@riverside.test" in text
    assert str(cast.therapist.pk) in text and str(cast.therapist_2.pk) in text
    cast.therapist_2.refresh_from_db()
    assert cast.therapist_2.email == "THERAPIST@riverside.test"  # nothing changed
