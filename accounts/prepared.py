"""ORM queries compiled once and run many times, for the few reads on a hot path.

Turning a queryset into SQL costs the ORM about a millisecond of CPU (joins, the select list,
ordering, converters), several times what the database spends on a lookup by primary key. The
entry PUT, the busiest request, sends the same two reads with other ids every time (the episode
in the caller's reach, its prescriptions). A :class:`PreparedQuery` lets the ORM compile such a
query once, with stand-in ids, keeps the SQL and where each id goes among its parameters, and
afterwards only executes it and builds the instances the way the ORM's own iterator does
(the backend's converters, the ``select_related`` objects). The SQL is the ORM's, so it is the
same on PostgreSQL and SQLite as the uncompiled queryset's.

Only for querysets whose variable parts are integer ids compared for equality; anything else
(``__in`` lists, dates, text) stays an ordinary queryset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

# django.db.models.query's own helper for select_related objects, which ModelIterable uses.
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Stand-ins for the ids while compiling: inside a 64-bit id's range (the ORM refuses lookups
# outside it) and far from any id or constant a query of ours holds.
_STAND_IN = 7_310_000_000_000_000_000


@dataclass(frozen=True)
class _Compiled(Generic[M]):
    sql: str
    # Per parameter: the name of an id to put there, or None for a constant kept as compiled.
    slots: tuple[str | None, ...]
    constants: tuple[Any, ...]
    model: type[M]
    init_list: list[str]
    model_slice: slice
    populators: list[Any]
    converters: dict[int, Any]
    compiler: Any


class PreparedQuery(Generic[M]):
    """A queryset of ``M`` with named integer ids, compiled by the ORM once per database.

    ``build`` takes the ids as keyword arguments and returns the queryset, e.g.
    ``PreparedQuery(lambda episode: Prescription.objects.filter(episode_id=episode), "episode")``;
    ``fetch(episode=7)`` then returns the same instances, in the same order, as
    ``list(build(episode=7))``. Every id must appear in the compiled SQL as a parameter.
    """

    def __init__(
        self, build: Callable[..., QuerySet[M]], *names: str, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        self._build = build
        self._names = names
        self._using = using
        self._compiled: dict[str, _Compiled[M]] = {}

    def fetch(self, **ids: int) -> list[M]:
        for value in ids.values():
            # bool is an int too; a value the database cannot hold would fail in the driver.
            if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
                raise ValueError(f"Not a 64-bit integer id: {value!r}")
        connection = connections[self._using]
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compile()
        params = [
            ids[name] if name is not None else constant
            for name, constant in zip(compiled.slots, compiled.constants, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Sequence[Any] = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        model, init_list, model_slice = compiled.model, compiled.init_list, compiled.model_slice
        objects = []
        for row in rows:
            obj = model.from_db(self._using, init_list, row[model_slice])
            for populator in compiled.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def _compile(self) -> _Compiled[M]:
        connection = connections[self._using]
        stand_ins = {name: _STAND_IN + i for i, name in enumerate(self._names)}
        queryset = self._build(**stand_ins)
        if queryset._prefetch_related_lookups or queryset.query.annotation_select:  # type: ignore[attr-defined]
            raise ImproperlyConfigured("PreparedQuery takes no prefetch_related or annotations.")
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        by_stand_in = {value: name for name, value in stand_ins.items()}
        slots = tuple(by_stand_in.get(p) if type(p) is int else None for p in params)
        missing = set(self._names) - set(slots)
        if missing:
            raise ImproperlyConfigured(f"Ids not among the query's parameters: {sorted(missing)}")
        klass_info = compiler.klass_info
        select = compiler.select
        assert klass_info is not None
        fields = klass_info["select_fields"]
        model_slice = slice(fields[0], fields[-1] + 1)
        converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        compiled: _Compiled[M] = _Compiled(
            sql=sql,
            slots=slots,
            constants=tuple(
                None if slot is not None else p for slot, p in zip(slots, params, strict=True)
            ),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[model_slice]],
            model_slice=model_slice,
            # (django-stubs describes Django 6, whose version takes a fetch_mode too.)
            populators=get_related_populators(klass_info, select, self._using),  # type: ignore[call-arg]
            converters=converters,
            compiler=compiler,
        )
        self._compiled[connection.vendor] = compiled
        return compiled
