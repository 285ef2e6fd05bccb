"""Delete lookup audit events older than a retention period."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from lookup.insights import rollup
from lookup.models import LookupEvent


class Command(BaseCommand):
    help = "Delete lookup events older than --days N."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True, help="Keep this many days of events (at least 1).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, days, dry_run, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        old = LookupEvent.objects.filter(created_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"Would delete {old.count()} lookup events older than {cutoff:%Y-%m-%d %H:%M %Z}.")
            return
        with transaction.atomic():
            deleted, _ = old.delete()
            rollup.forget(until=cutoff)  # the insights page rolls those days up again from what is left
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} lookup events older than {cutoff:%Y-%m-%d %H:%M %Z}."))
