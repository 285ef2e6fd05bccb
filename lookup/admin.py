"""Admin for lookup tokens (superusers) and the read-only audit trail."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from lookup.models import ApiToken, LookupEvent


@admin.action(description="Revoke selected tokens")
def revoke_tokens(modeladmin, request, queryset):
    revoked = 0
    for token in queryset.filter(revoked_at__isnull=True):
        token.revoke()
        revoked += 1
    modeladmin.message_user(request, f"Revoked {revoked} token(s). They are refused from the next request on.")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Create a token (its value is shown once), revoke, see last use. The digest is never shown."""

    list_display = ["name", "status", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    actions = [revoke_tokens]
    fields = ["name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["created_at", "last_used_at", "revoked_at"]

    @admin.display(description="Status")
    def status(self, obj: ApiToken) -> str:
        return "active" if obj.is_active else "revoked"

    def get_readonly_fields(self, request, obj=None):
        # A token's name is what audit rows refer to: fixed once created.
        return [*self.readonly_fields, "name"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing editable on an existing token
        raw = ApiToken.generate_raw()
        obj.set_raw(raw)
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            format_html(
                "Token <strong>{}</strong> created. Copy it now, it will not be shown again: <code>{}</code>",
                obj.name,
                raw,
            ),
        )


@admin.register(LookupEvent)
class LookupEventAdmin(admin.ModelAdmin):
    """Read-only audit of every lookup, filterable by outcome, token and date."""

    list_display = ["created_at", "outcome", "phone_number", "customer_link", "token_name", "duration_ms"]
    list_filter = ["outcome", "token_name", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["phone_number", "customer__customer_id"]
    list_select_related = ["customer"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Customer", ordering="customer__customer_id")
    def customer_link(self, obj: LookupEvent):
        if obj.customer is None:
            return "-"
        url = reverse("admin:crm_customer_change", args=[obj.customer.pk])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
