"""Delete interactions older than a retention period."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from crm.models import Interaction


class Command(BaseCommand):
    help = "Delete interactions whose latest event is older than --days N (customers' last interaction dates stay)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True, help="Keep this many days of interactions (at least 1).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, days, dry_run, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        old = Interaction.objects.filter(occurred_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"Would delete {old.count()} interactions older than {cutoff:%Y-%m-%d %H:%M %Z}.")
            return
        with transaction.atomic():
            # Nothing points at interactions: Django's fast path, one DELETE on the occurred_at index.
            deleted, _ = old.delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} interactions older than {cutoff:%Y-%m-%d %H:%M %Z}."))
