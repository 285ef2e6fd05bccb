"""A paginator that never counts a million rows to draw one page."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    """Estimated count (PostgreSQL statistics) when unfiltered; a capped count when filtered.

    COUNT(*) over 1,000,000 customers costs more than the rest of the changelist page together.
    Unfiltered, pg_class.reltuples (kept by autovacuum/ANALYZE) gives the size for free; filtered
    or searched, counting stops at CAP + 1 rows, which still draws the first CAP / per_page pages.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        estimate = self._estimate(queryset)
        if estimate is not None and estimate > self.CAP:
            self.is_estimate = True
            return estimate
        count = queryset.order_by()[: self.CAP + 1].count()
        self.is_capped = count > self.CAP
        return count

    is_estimate = False
    is_capped = False

    @staticmethod
    def _estimate(queryset) -> int | None:
        """The planner's row estimate of the whole table, or None when it is not usable here."""
        connection = connections[queryset.db]
        if connection.vendor != "postgresql" or queryset.query.where:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
            )
            row = cursor.fetchone()
        # -1 (or 0) until the table has been analyzed once: then count for real.
        return row[0] if row and row[0] > 0 else None
