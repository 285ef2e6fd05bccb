"""Helpers for the few insights queries the ORM cannot express (grouping over a grouped subquery)."""

from datetime import datetime

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def table(model: type[Model]) -> str:
    """A model's table name, quoted for the current database."""
    return connection.ops.quote_name(model._meta.db_table)


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def aware(value) -> datetime:
    """A time computed in SQL (MAX over a subquery, a CASE) is naive UTC text on SQLite; PostgreSQL keeps its type."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, connection.timezone)
    return value
