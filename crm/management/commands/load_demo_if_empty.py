"""Load fixtures/demo.json only into a database that has no customers and no tiers (`make run`)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from crm.models import Customer, Tier


class Command(BaseCommand):
    help = (
        "Load the demo customers and tiers (fixtures/demo.json) if the database has no customers and no tiers; "
        "otherwise change nothing. `python manage.py loaddata demo` loads them unconditionally."
    )

    def handle(self, *args, **options):
        # One transaction: a second `make run` started at the same moment cannot load twice.
        with transaction.atomic():
            if Customer.objects.exists() or Tier.objects.exists():
                self.stdout.write(
                    "Demo data not loaded: the database already has customers or tiers (kept as they are)."
                )
                return
            call_command("loaddata", "demo", verbosity=0)
        self.stdout.write(self.style.SUCCESS("Loaded the demo customers and tiers (fixtures/demo.json)."))
