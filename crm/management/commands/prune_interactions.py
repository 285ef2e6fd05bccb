"""Delete interactions older than a retention period."""

from crm.commands import PruneCommand
from crm.models import Interaction


class Command(PruneCommand):
    help = "Delete interactions whose latest event is older than --days N (customers' last interaction dates stay)."
    noun = kept = "interactions"

    def old(self, cutoff):
        # Nothing points at interactions: Django's fast path, one DELETE on the occurred_at index.
        return Interaction.objects.filter(occurred_at__lt=cutoff)
