"""Admin for Interactions: a read-only changelist that stays fast at 1,000,000 conversations."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Q

from crm.admin_links import customer_link_column
from crm.models import Interaction
from crm.paginators import LargeTablePaginator
from crm.phones import normalize_phone

# The value filters offer the codes and queues of this many latest interactions: a
# DISTINCT over the whole table would read all of a million-row index on every page.
RECENT_VALUES_WINDOW = 10_000


class RecentValuesFilter(admin.SimpleListFilter):
    """Filter by a field's exact value, offering the values seen in the latest interactions."""

    field: str

    def lookups(self, request, model_admin):
        # The latest rows' values, read down the time index and made distinct here: PostgreSQL
        # plans "DISTINCT ... WHERE id IN (latest 10,000)" as a scan of the whole table.
        latest = Interaction.objects.order_by("-occurred_at", "-id").values_list(self.field, flat=True)
        values = sorted({value for value in latest[:RECENT_VALUES_WINDOW] if value})
        choices = [(value, value) for value in values]
        selected = self.value()
        # A value from an older interaction (a bookmarked link) stays selectable.
        if selected and selected not in {value for value, _ in choices}:
            choices.append((selected, selected))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


class WrapupCodeFilter(RecentValuesFilter):
    title = "wrap-up code"
    parameter_name = "wrapup_code"
    field = "wrapup_code"


class QueueFilter(RecentValuesFilter):
    title = "queue"
    parameter_name = "queue_id"
    field = "queue_id"


class MatchedFilter(admin.SimpleListFilter):
    """Matched to a customer, or an unknown caller."""

    title = "caller"
    parameter_name = "matched"

    def lookups(self, request, model_admin):
        return [("yes", "Matched to a customer"), ("no", "Unknown caller")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(customer__isnull=False)
        if self.value() == "no":
            return queryset.filter(customer__isnull=True)
        return queryset


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """Conversations written back by Genesys; nobody edits them here (support staff may view)."""

    list_display = [
        "occurred_at",
        "customer_link",
        "ani",
        "direction",
        "duration",
        "queue_id",
        "agent_id",
        "wrapup_code",
        "conversation_id",
    ]
    list_display_links = ["occurred_at"]
    list_filter = [("occurred_at", admin.DateFieldListFilter), WrapupCodeFilter, QueueFilter, MatchedFilter]
    list_select_related = ["customer"]
    search_fields = ["conversation_id"]
    search_help_text = "A conversation ID, or the caller's number in any format, e.g. (555) 123-4567."
    fieldsets = [
        (None, {"fields": ["conversation_id", "customer", "ani", "dnis", "direction", "media_type"]}),
        ("Call", {"fields": ["started_at", "ended_at", "duration_ms", "disconnect_type"]}),
        ("Wrap-up", {"fields": ["queue_id", "agent_id", "wrapup_code", "wrapup_notes", "wrapup_at"]}),
        ("History", {"fields": ["occurred_at", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    # No COUNT(*) over a million rows (see crm/paginators.py), and no facet counts either.
    show_full_result_count = False
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    actions = None  # no bulk delete: retention is prune_interactions' job

    customer_link = customer_link_column("unknown caller")

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, obj: Interaction) -> str:
        return format_duration(obj.duration_ms)

    def get_search_results(self, request, queryset, search_term):
        """Exact matches on indexed columns: the conversation ID or the caller's number."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(conversation_id=term)
        e164 = normalize_phone(term)
        if e164 is not None:
            match |= Q(ani=e164)
        return queryset.filter(match), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Superusers may remove a wrong conversation; everyone else only views.
        return request.user.is_superuser


def format_duration(ms: int | None) -> str:
    """12345 -> '0:12'; 3723000 -> '1:02:03'; None -> '-'."""
    if ms is None:
        return "-"
    total = int(timedelta(milliseconds=ms).total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


# How many interactions the customer page lists; the changelist has the rest.
RECENT_INTERACTIONS = 20


def recent_interactions(customer_pk: int) -> list[Interaction]:
    """The customer's latest interactions, newest first: one query on the (customer, time) index."""
    return list(
        Interaction.objects.filter(customer_id=customer_pk)
        .order_by("-occurred_at", "-id")
        .only("occurred_at", "direction", "duration_ms", "queue_id", "agent_id", "wrapup_code", "wrapup_notes")[
            :RECENT_INTERACTIONS
        ]
    )
