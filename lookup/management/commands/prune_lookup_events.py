"""Delete lookup audit events older than a retention period."""

from crm.commands import OneLineUsageErrors, PruneCommand, int_in_range
from lookup.insights import rollup
from lookup.models import AuditBatch, LookupEvent

# A hundred years: anything longer keeps everything, and timedelta overflows at 999,999,999 days.
MAX_DAYS = 36500


class Command(OneLineUsageErrors, PruneCommand):
    help = "Delete lookup events older than --days N."
    noun, kept = "lookup events", "events"

    def handle(self, *args, days, dry_run, **options):
        self.prune(int_in_range(days, "--days", 1, MAX_DAYS), dry_run)

    def old(self, cutoff):
        return LookupEvent.objects.filter(created_at__lt=cutoff)

    def forget(self, cutoff) -> None:
        # Marks a killed worker left after its spool file was gone: nothing will read them.
        AuditBatch.objects.filter(committed_at__lt=cutoff).delete()
        rollup.forget(until=cutoff)  # the insights page rolls those days up again from what is left
