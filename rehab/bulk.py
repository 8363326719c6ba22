"""SQL for work on many rows at once (the nightly evaluation, the outbox), on the ORM's terms.

Django sends its queries with client-side parameter binding: psycopg quotes every parameter into
the SQL text in Python, and a query longer than a few kilobytes is re-parsed every time. So a
filter ``pk__in=ids`` on 500 ids costs 500 quotings and a 5 KB query to split, several
milliseconds a time, where the database answers in one. ``AnyOf`` sends the whole list as one
array parameter instead (``id = ANY(%s)``, a short query psycopg caches). The bulk writes of
text and JSON (``insert_rows``, ``update_rows``) go through a cursor that binds parameters on
the server (``server_bound_cursor``): the values travel beside the SQL, so nothing is escaped
in Python. SQLite, the zero-setup development database, has no arrays and binds on its own:
there everything falls back to what the ORM would have sent.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Field, JSONField, Lookup, Model
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(Lookup):
    """``column = ANY(array)``: membership in a list of integer ids, sent as one parameter.

    Used as an expression: ``Episode.objects.filter(any_of("pk", ids))``.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, Any]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        values = [int(value) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs_sql} = ANY(%s::bigint[])", (*lhs_params, values)
        if not values:
            raise EmptyResultSet
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs_sql} IN ({placeholders})", (*lhs_params, *values)


def any_of(field: str, ids: Sequence[int]) -> AnyOf:
    """A filter keeping the rows whose ``field`` (an integer column) is one of ``ids``."""
    return AnyOf(F(field), list(ids))


@contextmanager
def server_bound_cursor() -> Iterator[CursorWrapper]:
    """A cursor of the default connection that sends parameters apart from the SQL.

    PostgreSQL only. It is wrapped like any Django cursor, so query logging, the test suite's
    query counts and ``execute_wrapper`` see what it sends, and it runs in the current
    transaction.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    # Typed Any: django-stubs declare make_cursor() as taking a wrapper, it takes a DB cursor.
    raw: Any = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    try:
        yield cursor
    finally:
        cursor.close()


def _columns(model: type[Model], fields: Sequence[str]) -> list[Field[Any, Any]]:
    meta = model._meta
    columns: list[Field[Any, Any]] = []
    for name in fields:
        column = meta.get_field(name)
        assert isinstance(column, Field)
        columns.append(column)
    return columns


def insert_rows(model: type[Model], rows: Sequence[Model]) -> None:
    """Insert unsaved instances in one statement and set their primary keys, as ``bulk_create``.

    On PostgreSQL the values are bound on the server, and ``RETURNING`` gives the ids in the
    order of the rows.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows)
        return
    columns = [column for column in model._meta.concrete_fields if not column.primary_key]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(column.column)) for column in columns)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [
        column.get_db_prep_save(column.pre_save(row, add=True), connection)
        for row in rows
        for column in columns
    ]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608  # nosec B608
        f"VALUES {', '.join([row_sql] * len(rows))} RETURNING {quote(str(model._meta.pk.column))}"
    )
    with server_bound_cursor() as cursor:
        cursor.execute(sql, params)
        # PostgreSQL returns the rows of a multi-row VALUES in order.
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row._state.adding = False
            row._state.db = connection.alias


def upsert_rows(model: type[Model], rows: Sequence[Model], *, conflict: str) -> None:
    """Insert each instance, or replace every column of the row it collides with on the unique
    column ``conflict``.

    One ``INSERT ... ON CONFLICT DO UPDATE`` statement for one row, sent for all of them with
    ``executemany``: on PostgreSQL prepared once, bound on the server and pipelined (a measured
    third faster than one multi-row statement of 500 rows, whose 15,000 parameters PostgreSQL
    parses every time); the ORM's ``bulk_create(update_conflicts=True)`` would quote every value
    into the text, and on SQLite split a chunk into statements of 41 rows. The instances'
    primary keys must be set (or be ``conflict`` itself).
    """
    if not rows:
        return
    columns = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    names = [quote(str(column.column)) for column in columns]
    key = quote(str(model._meta.get_field(conflict).column))  # type: ignore[union-attr]
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name != key)
    # The instances' own values (no pre_save: auto_now and the like are not for this path). On
    # PostgreSQL psycopg adapts numbers, text, dates and aware datetimes itself and only JSON
    # needs the field's adapter (every field's preparation cost a third of the write); SQLite
    # stores dates and times as Django's text, so there every field prepares its value.
    postgres = connection.vendor == "postgresql"
    prepare = [
        (
            column.attname,
            None if postgres and not isinstance(column, JSONField) else column.get_db_prep_save,
        )
        for column in columns
    ]
    values = [
        [
            getattr(row, name) if prep is None else prep(getattr(row, name), connection)
            for name, prep in prepare
        ]
        for row in rows
    ]
    placeholders = ", ".join(["%s"] * len(columns))
    # Only the model's own table and column names go into the text; values are parameters.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608  # nosec B608
        f"VALUES ({placeholders}) ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )
    if not postgres:
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)
        return
    with server_bound_cursor() as cursor:
        cursor.executemany(sql, values)


def update_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of each instance in ``rows``, all of them in one statement.

    On PostgreSQL: ``UPDATE ... FROM (VALUES (...), (...)) AS v WHERE id = v.id``, the values
    bound on the server (``bulk_update`` would build a CASE expression per row and field, and
    quote every value into the text). Elsewhere one UPDATE per row, sent with ``executemany``.
    """
    if not rows:
        return
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = [quote(str(column.column)) for column in columns]
    values = [
        [
            row.pk,
            *(
                column.get_db_prep_save(getattr(row, column.attname), connection)
                for column in columns
            ),
        ]
        for row in rows
    ]
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{name} = %s" for name in names)
        # Only the model's own table and column names go into the text; values are params.
        sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608  # nosec B608
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[*row[1:], row[0]] for row in values])
        return
    # The first row carries the types: VALUES takes each column's type from it.
    first = (
        "(%s::bigint, " + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    )
    others = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608  # nosec B608
        f"FROM (VALUES {', '.join([first] + [others] * (len(values) - 1))}) "
        f"AS v(id, {', '.join(names)}) WHERE {table}.id = v.id"
    )
    with server_bound_cursor() as cursor:
        cursor.execute(sql, [value for row in values for value in row])


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many episodes are read and evaluated.

    A chunk (or a long caseload) builds ~50,000 small objects (entries, their sets, findings)
    that live until it ends and form no cycles. The collector would walk them again at every
    700th allocation and cost a third of the time for nothing; reference counting frees them
    all when the work is done, and the collector runs again from there. (The switch is
    process-wide: in a threaded server two requests' pauses may overlap, which costs time at
    worst, never memory for long or correctness.)
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
