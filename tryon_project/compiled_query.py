"""A read whose SQL the ORM compiles once per process and database, then runs with a new parameter each time.

For a one-row primary-key read (a poll), compiling the queryset costs more than the database round trip. The SQL
still comes from the ORM (the model's table, columns and quoting), and the database's converters are applied to
the row as the ORM would, so a `CompiledQuery` answers exactly what its queryset answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# What the queryset is built with in place of its one parameter; compiling checks that it is the only one.
PARAMETER = "compiled-query-parameter"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    expressions: tuple[Any, ...]
    # Per column, the backend's converters (SQLite's text datetimes, integer booleans), then the field's own:
    # looked up once here, as the ORM's compiler does once per queryset.
    converters: tuple[tuple[Any, ...], ...]


class CompiledQuery:
    """`build(PARAMETER)` must return a `values_list` queryset with exactly one parameter (e.g. a primary-key
    filter); `first_row(value=…)` runs it with `value` in that place."""

    def __init__(self, *, build: Callable[[str], QuerySet]):
        self._build = build
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, *, using: str) -> _Compiled:
        connection = connections[using]
        compiler = self._build(PARAMETER).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        if tuple(params) != (PARAMETER,):
            raise ValueError("a compiled query takes exactly one parameter")
        expressions = tuple(expression for expression, _, _ in compiler.select)
        compiled = _Compiled(
            sql=sql,
            expressions=expressions,
            converters=tuple(
                tuple(connection.ops.get_db_converters(expression) + expression.get_db_converters(connection))
                for expression in expressions
            ),
        )
        self._compiled[(using, connection.vendor)] = compiled
        return compiled

    def first_row(self, *, value: object, using: str = "default") -> tuple | None:
        connection = connections[using]
        compiled = self._compiled.get((using, connection.vendor)) or self._compile(using=using)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [value])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, (expression, converters) in enumerate(zip(compiled.expressions, compiled.converters, strict=True)):
            for converter in converters:
                values[index] = converter(values[index], expression, connection)
        return tuple(values)
