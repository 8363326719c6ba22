"""Which language a person reads: their own choice, the browser's, or the site's default.

Pages follow the signed-in user's ``language`` (accounts.middleware.UserLanguageMiddleware),
before sign-in the language cookie or Accept-Language (Django's LocaleMiddleware); the API follows
Accept-Language only. Emails and push texts are written in the recipient's language
(``in_language_of``). docs/i18n.md explains how to add a language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def validate_language(language: str) -> str:
    """The code if the site speaks it; otherwise a ValidationError naming the field."""
    if language not in language_codes():
        raise ValidationError(
            {"language": _("Choose one of: %(codes)s.") % {"codes": ", ".join(language_codes())}},
            code="invalid_language",
        )
    return language


def user_language_set(*, user: User, language: str) -> User:
    """Record the language a person chose for their pages, emails and push texts."""
    validate_language(language)
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


@contextmanager
def in_language_of(user: User | None) -> Iterator[None]:
    """Everything rendered inside speaks the recipient's language (emails, push payloads)."""
    language = user.language_or_default if user is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        yield


@receiver(user_logged_in)
def remember_language_at_sign_in(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Someone who never chose keeps the language they signed in with (the language switch on the
    sign-in and invitation pages, or their browser's), so emails reach them in it too."""
    if request is None or not isinstance(user, User) or user.language:
        return
    # The language this request is served in: LocaleMiddleware's pick, as the person was anonymous
    # (none on a request that did not pass the middleware, such as a test's force_login).
    language = getattr(request, "LANGUAGE_CODE", None)
    if language in language_codes():
        user_language_set(user=user, language=language)
