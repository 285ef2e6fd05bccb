"""Delete lookup audit events older than a retention period."""

from crm.commands import PruneCommand
from lookup.insights import rollup
from lookup.models import AuditBatch, LookupEvent


class Command(PruneCommand):
    help = "Delete lookup events older than --days N."
    noun, kept = "lookup events", "events"

    def old(self, cutoff):
        return LookupEvent.objects.filter(created_at__lt=cutoff)

    def forget(self, cutoff) -> None:
        # Marks a killed worker left after its spool file was gone: nothing will read them.
        AuditBatch.objects.filter(committed_at__lt=cutoff).delete()
        rollup.forget(until=cutoff)  # the insights page rolls those days up again from what is left
