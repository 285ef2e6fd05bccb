"""Lookup API tokens, stored as digests."""

import datetime
import hashlib
import secrets

from django.db import connections, models
from django.utils import timezone


def token_digest(raw: str) -> str:
    """SHA-256 of a token: enough for high-entropy random tokens, and what the database keeps."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def active_by_digest(self, digest: str) -> "ApiToken | None":
        """The active token with this digest (id, name, last_used_at loaded), in one plain statement.

        This runs on every lookup; the ORM spent more CPU building the query than the database
        spent answering it. The digest is the unique key, so the equality match is no timing oracle.
        """
        table = self.model._meta.db_table
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"SELECT id, name, last_used_at FROM {table} WHERE digest = %s AND revoked_at IS NULL", [digest]
            )
            row = cursor.fetchone()
        if row is None:
            return None
        pk, name, last_used_at = row
        if last_used_at is not None and timezone.is_naive(last_used_at):
            last_used_at = timezone.make_aware(last_used_at, datetime.UTC)  # SQLite keeps naive UTC
        return self.model.from_db(self.db, ["id", "name", "last_used_at"], [pk, name, last_used_at])


class ApiToken(models.Model):
    """A named Bearer token for a caller of the lookup API (e.g. one Genesys org)."""

    # How often last_used_at may be written: once a minute keeps the hot path read-only.
    LAST_USED_RESOLUTION_SECONDS = 60

    # Unique among active tokens only: a revoked token keeps its row (and its audit rows their
    # token_name), and its name can be given to a new token (docs/operations.md "Security").
    name = models.CharField(max_length=100, help_text="Who uses it, e.g. genesys-prod.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-created_at"]
        verbose_name = "API token"
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="lookup_apitoken_unique_active_name",
                violation_error_message="An active token with this name already exists; revoke it or pick another name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate_raw() -> str:
        """A new random token: 256 bits, URL-safe, never starting with "-".

        A token starting with "-" reads as an option on a command line (`architect_probe --token -x…`
        fails in argparse), so such draws are thrown away: 1 in 32 of them, at no cost in strength
        worth counting (about 0.05 bit).
        """
        while (raw := secrets.token_urlsafe(32)).startswith("-"):
            pass
        return raw

    def set_raw(self, raw: str) -> None:
        """Keep only the digest of the raw token."""
        self.digest = token_digest(raw)

    def revoke(self) -> None:
        """Refuse this token from the next request on."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiToken.objects.filter(pk=self.pk).update(revoked_at=self.revoked_at)

    def touch(self, now=None) -> None:
        """Record use, at most once per LAST_USED_RESOLUTION_SECONDS."""
        now = now or timezone.now()
        last = self.last_used_at
        if last is None or (now - last).total_seconds() >= self.LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
