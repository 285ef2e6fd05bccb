"""The audit trail: one LookupEvent per call of the lookup API."""

from django.db import models
from django.utils import timezone

from crm.models import Customer


class LookupEvent(models.Model):
    """One call of the lookup API: who asked, for which number, what they got, how fast."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        NOT_FOUND = "not_found", "Not found"
        NO_NUMBER = "no_number", "No number"
        UNAUTHORIZED = "unauthorized", "Unauthorized"
        BAD_REQUEST = "bad_request", "Bad request"

    NO_NUMBER_TEXT = "none"

    created_at = models.DateTimeField(default=timezone.now)
    token_name = models.CharField(max_length=100, blank=True)
    phone_number = models.CharField(max_length=32, default=NO_NUMBER_TEXT, help_text="Normalised E.164, or none.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # SET_NULL: deleting a customer keeps the history of calls that found them.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="lookup_events"
    )
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # One outcome's events by time; with the number too, the unknown-caller worklist groups the
            # not-found numbers of a window from the index alone instead of reading every event.
            models.Index(fields=["outcome", "created_at", "phone_number"], name="lookup_event_outcome_number"),
            # Every insights query is a created_at range reading these columns: with all of them in the
            # index PostgreSQL answers from the index alone (index-only scan). Also serves prune and the admin.
            models.Index(
                fields=["created_at", "outcome", "token_name", "duration_ms"], name="lookup_event_time_covering"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.phone_number} {self.outcome}"


class AuditBatch(models.Model):
    """A spool file whose audit rows are committed: a drain that finds it here never writes them twice."""

    # "<host>/<pid>-<start time>-<n>": spool files are per machine, so the host keeps names apart.
    name = models.CharField(max_length=255, primary_key=True)
    committed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "audit batch"

    def __str__(self) -> str:
        return self.name
