"""The customer page's table of recent interactions."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from crm.admin_interactions import RECENT_INTERACTIONS, format_duration, recent_interactions

register = template.Library()


@register.inclusion_tag("admin/crm/customer/recent_interactions.html")
def recent_interactions_table(customer):
    """The customer's latest interactions, newest first, with a link to all of them."""
    rows = [
        {
            "time": date_format(timezone.localtime(i.occurred_at), "DATETIME_FORMAT"),
            "direction": i.get_direction_display() or "-",
            "duration": format_duration(i.duration_ms),
            "queue": i.queue_id or "-",
            "agent": i.agent_id or "-",
            "wrapup_code": i.wrapup_code or "-",
            "notes": i.wrapup_notes,
        }
        for i in recent_interactions(customer.pk)
    ]
    all_url = reverse("admin:crm_interaction_changelist") + f"?customer__id__exact={customer.pk}"
    return {"interactions": rows, "all_url": all_url, "limit": RECENT_INTERACTIONS}
