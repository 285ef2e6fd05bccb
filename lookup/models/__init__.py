"""The lookup app's models: tokens, the audit trail of lookups, and its daily rollups."""

from lookup.models.events import AuditBatch, LookupEvent
from lookup.models.rollups import LookupDayCount, LookupDayLatency, LookupRollupDay
from lookup.models.tokens import ApiToken, ApiTokenQuerySet, token_digest

__all__ = [
    "ApiToken",
    "AuditBatch",
    "ApiTokenQuerySet",
    "LookupDayCount",
    "LookupDayLatency",
    "LookupEvent",
    "LookupRollupDay",
    "token_digest",
]
