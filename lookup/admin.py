"""Admin for lookup tokens (superusers) and the read-only audit trail."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from crm.admin import CustomerAdmin
from crm.admin_links import customer_link_column
from crm.models import Customer
from lookup.models import ApiToken, LookupEvent
from lookup.services import token_create


@admin.action(description="Revoke selected tokens")
def revoke_tokens(modeladmin, request, queryset):
    revoked = 0
    for token in queryset.filter(revoked_at__isnull=True):
        token.revoke()
        revoked += 1
    modeladmin.message_user(request, f"Revoked {revoked} token(s). They are refused from the next request on.")


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name"]

    def clean_name(self) -> str:
        # The database allows one *active* token per name (a revoked one keeps its name as history).
        name = self.cleaned_data["name"].strip()
        if self.instance.pk is None and ApiToken.objects.active().filter(name=name).exists():
            raise forms.ValidationError(
                "An active token with this name already exists; revoke it or pick another name."
            )
        return name


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Create a token (its value is shown once), revoke, see last use. The digest is never shown."""

    list_display = ["name", "status", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    actions = [revoke_tokens]
    form = ApiTokenForm
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
        # The one way tokens are made (the commands use it too); the admin goes on with obj.
        token, raw = token_create(name=obj.name)
        obj.pk, obj.digest, obj.created_at = token.pk, token.digest, token.created_at
        obj._state.adding, obj._state.db = False, token._state.db
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

    customer_link = customer_link_column("-")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# How many lookups the customer page lists; the audit changelist has the rest.
RECENT_LOOKUPS = 20


# The customer page shows its recent lookups. The crm app must not import lookup (lookup
# depends on crm, never the reverse), so lookup extends the customer admin, as apps do with UserAdmin.
admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerWithLookupsAdmin(CustomerAdmin):
    """The customer admin plus a read-only table of the customer's latest lookups."""

    readonly_fields = [*CustomerAdmin.readonly_fields, "recent_lookups"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # a customer being added has no lookups yet
            return CustomerAdmin.fieldsets
        return [*CustomerAdmin.fieldsets, ("Recent lookups", {"fields": ["recent_lookups"]})]

    @admin.display(description=f"Latest {RECENT_LOOKUPS}, newest first")
    def recent_lookups(self, obj: Customer):
        # One query on the customer_id index, newest first, only the columns shown.
        events = list(
            LookupEvent.objects.filter(customer=obj)
            .order_by("-created_at", "-id")
            .only("created_at", "outcome", "phone_number", "token_name", "duration_ms")[:RECENT_LOOKUPS]
        )
        if not events:
            return "No lookups yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td></tr>",
            (
                (
                    date_format(timezone.localtime(e.created_at), "DATETIME_FORMAT"),
                    e.get_outcome_display(),
                    e.phone_number,
                    e.token_name,
                    e.duration_ms,
                )
                for e in events
            ),
        )
        all_url = reverse("admin:lookup_lookupevent_changelist") + f"?customer__id__exact={obj.pk}"
        return format_html(
            '<table class="recent-lookups"><thead><tr><th>Time</th><th>Outcome</th><th>Number</th>'
            "<th>Token</th><th>Duration</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All lookups of this customer</a></p>',
            rows,
            all_url,
        )
