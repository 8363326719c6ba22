"""One spelling of every email address: what is stored, looked up, and counted by the lockout.

An attack (issue 10) dodged the per-account lockout with look-alike addresses: after ``admin@``
was locked, ``admın@`` (dotless i) and ``...teſt`` (long s) signed in, because the database lookup
folded case with PostgreSQL's ``UPPER()`` (which turns both into ``ADMIN``/``TEST``) while the
lockout key used Python's ``lower()`` (which leaves them alone). Now there is one function, and
users are found by *equality* with its result, so the three agree by construction.

The normal form is Unicode NFKC, then case folding, then NFKC again (folding can leave text that
is no longer in normal form), trimmed of surrounding white space:

- ``ADMIN@Demo.Test``, ``ａｄｍｉｎ@demo.test`` (full-width) and ``admin@demo.teſt`` (NFKC turns
  the long s into ``s``) are all ``admin@demo.test``: the same account, and the same lockout.
- ``admın@demo.test`` stays as it is: case folding keeps the dotless ``ı``, so it is another
  address, and without an account of its own it signs in as nobody.

It is idempotent: ``normalize_email(normalize_email(x)) == normalize_email(x)``.
"""

from __future__ import annotations

import unicodedata


def normalize_email(email: str) -> str:
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def upper_case_look_alike(email: str) -> str:
    """The address PostgreSQL's ``UPPER()`` would confuse with ``email``, normalised.

    Characters whose upper case is an ASCII letter but whose folded form is not (the dotless
    ``ı`` becomes ``I``) make an address that reads like another one. New patients may not take
    such an address while the one it imitates has an account.
    """
    return normalize_email(normalize_email(email).upper())
