"""Admin views: "Lookup insights" (charts, latency, tokens, alerts) and the unknown-caller worklist."""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from lookup.contract import FLOW_BUDGET_MS
from lookup.insights import charts, interactions, queries, worklist
from lookup.insights.queries import OUTCOMES, WINDOWS

TOP_UNKNOWN = 20
UNKNOWN_PER_PAGE = 50
# The worklist may also span every retained event.
ALL_TIME = "all"


def can_view_insights(user) -> bool:
    """Superusers and staff allowed to view lookup events (the "Support staff" group grants it)."""
    return user.is_active and user.is_staff and user.has_perm("lookup.view_lookupevent")


def _check(request) -> None:
    if not can_view_insights(request.user):
        raise PermissionDenied


def _with_add_links(rows) -> list[dict]:
    """Each unknown number with links to its lookups, its calls and the add-customer form that has it filled in."""
    add_url = reverse("admin:crm_customer_add")
    events_url = reverse("admin:lookup_lookupevent_changelist")
    calls_url = reverse("admin:crm_interaction_changelist")
    return [
        {
            **row,
            "add_url": f"{add_url}?{urlencode({'phone': row['phone_number']})}",
            "events_url": f"{events_url}?{urlencode({'q': row['phone_number'], 'outcome': 'not_found'})}",
            "calls_url": f"{calls_url}?{urlencode({'q': row['phone_number'], 'matched': 'no'})}",
        }
        for row in rows
    ]


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def _context(request, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title, "windows": WINDOWS.values()}


def insights_page(request):
    """The support lead's dashboard for one window (24 h per hour, 7 or 30 days per day)."""
    _check(request)
    window = queries.window_for(request.GET.get("window"))
    now = timezone.now()
    counts = queries.window_counts(window, now)
    series = counts.series
    since = series[0].start
    totals = queries.outcome_totals(series)
    total = sum(totals.values())
    percentiles = queries.latency_percentiles(since, now, counts.rolled)
    unknown = list(worklist.unknown_callers(since)[:TOP_UNKNOWN])
    context = {
        **_context(request, "Lookup insights"),
        "window": window,
        "since": since,
        "now": now,
        "outcomes": [{"key": o.value, "label": o.label, "count": totals[o.value]} for o in OUTCOMES],
        "total": total,
        "hit_rate_text": _percent(queries.hit_rate(totals)),
        "chart": charts.stacked_bars(window, series),
        "latency": charts.latency_bars(percentiles, FLOW_BUDGET_MS, queries.P99_ALERT_MS),
        "budget_ms": FLOW_BUDGET_MS,
        "tokens": queries.tokens_in_use(counts.by_token),
        "unknown": _with_add_links(unknown),
        "unknown_url": f"{reverse('insights:unknown-callers')}?{urlencode({'window': window.key})}",
        "alerts": queries.alerts(now, percentiles[99]),
        **interactions_context(request, since),
    }
    return TemplateResponse(request, "admin/lookup/insights.html", context)


def interactions_context(request, since) -> dict:
    """Repeat callers (more than ?repeat=N interactions in the window) and interactions per tier."""
    more_than = interactions.repeat_threshold(request.GET.get("repeat"))
    listed_url = reverse("admin:crm_interaction_changelist")
    repeat = [
        {
            **row,
            "url": reverse("admin:crm_customer_change", args=[row["customer_id"]]),
            "list_url": f"{listed_url}?{urlencode({'customer__id__exact': row['customer_id']})}",
        }
        for row in interactions.repeat_callers(since, more_than)
    ]
    return {"repeat_more_than": more_than, "repeat_callers": repeat, "tiers": interactions.interactions_per_tier(since)}


def unknown_callers_page(request):
    """The whole worklist of unknown callers, paginated, for a window or all retained events."""
    _check(request)
    key = request.GET.get("window")
    if key == ALL_TIME:
        since, label = None, "All retained events"
    else:
        window = queries.window_for(key)
        key, label = window.key, window.label
        since = queries.bucket_starts(window, timezone.now())[0]
    paginator = Paginator(worklist.unknown_callers(since), UNKNOWN_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        **_context(request, "Unknown callers"),
        "window_key": key,
        "window_label": label,
        "all_time": ALL_TIME,
        "page_obj": page,
        "rows": _with_add_links(page.object_list),
        "rank_offset": page.start_index() - 1 if page.object_list else 0,
    }
    return TemplateResponse(request, "admin/lookup/unknown_callers.html", context)
