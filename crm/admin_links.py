"""Admin columns that link a row to its customer's page (the interactions and the lookup audit have one)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html


def customer_link_column(empty: str):
    """A list_display method: the row's customer, linked to their change page, or `empty` when there is none."""

    @admin.display(description="Customer", ordering="customer__customer_id")
    def customer_link(self, obj):
        if obj.customer is None:
            return empty
        url = reverse("admin:crm_customer_change", args=[obj.customer.pk])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    return customer_link
