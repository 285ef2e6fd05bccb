"""Admin pages where support staff keep customers, their phones and tiers."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from import_export.admin import ExportActionMixin, ImportMixin
from import_export.formats import base_formats

from crm.models import Customer, CustomerPhone, Tier
from crm.paginators import LargeTablePaginator
from crm.phones import normalize_phone
from crm.resources import CustomerResource


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    """Tiers are few and edited rarely."""

    list_display = ["name", "rank", "description"]
    list_editable = ["rank"]
    search_fields = ["name"]


class CustomerPhoneInline(admin.TabularInline):
    """Phones are edited on their customer's page."""

    model = CustomerPhone
    fields = ["number", "label"]
    extra = 1


class ChangeTierForm(forms.Form):
    tier = forms.ModelChoiceField(queryset=Tier.objects.all(), empty_label=None)


# How many selected customers the confirmation page names before "and N more".
CHANGE_TIER_PREVIEW = 10


@admin.action(description="Change tier of selected customers", permissions=["change"])
def change_tier(modeladmin, request, queryset):
    """Intermediate page with a tier select; on submit one UPDATE moves every selected customer."""
    form = ChangeTierForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        tier = form.cleaned_data["tier"]
        with transaction.atomic():
            changed = queryset.order_by().update(tier=tier, updated_at=timezone.now())
        modeladmin.message_user(request, f"Moved {changed} customer(s) to {tier}.")
        return None  # back to the changelist
    count = queryset.count()
    preview = list(queryset.select_related("tier")[:CHANGE_TIER_PREVIEW])
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Change tier",
        "opts": modeladmin.model._meta,
        "form": form,
        "count": count,
        "preview": preview,
        "more": max(count - len(preview), 0),
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/crm/customer/change_tier.html", context)


@admin.register(Customer)
class CustomerAdmin(ImportMixin, ExportActionMixin, admin.ModelAdmin):
    """Customers with tier, phones inline, searchable by ID, name and phone in any format; import/export."""

    list_display = ["customer_id", "first_name", "last_name", "tier", "phone_numbers", "last_interaction_date"]
    list_display_links = ["customer_id", "first_name", "last_name"]
    list_filter = ["tier"]
    list_select_related = ["tier"]
    # Searching is done by get_search_results with indexed lookups; these only turn the search box on.
    search_fields = ["customer_id", "first_name", "last_name"]
    search_help_text = (
        "A phone number in any format, e.g. (555) 123-4567; the start of a customer ID (CUST-00012) "
        "or of a last name (Smi); or first and last name (Ali Smi)."
    )
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["customer_id", ("first_name", "last_name"), "tier", "last_interaction_date"]}),
        ("Notes", {"fields": ["notes"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [CustomerPhoneInline]
    actions = [change_tier]
    # A full COUNT(*) per page is the slowest part of a large changelist: neither the
    # "N total" count nor the paginator's count runs over the whole table.
    show_full_result_count = False
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    change_form_template = "admin/crm/customer/change_form.html"  # import-export's, plus recent interactions

    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    resource_classes = [CustomerResource]
    import_formats = [base_formats.CSV, base_formats.XLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    @admin.display(description="Phones")
    def phone_numbers(self, obj: Customer) -> str:
        return ", ".join(str(phone.number) for phone in obj.phones.all())

    def get_formset_kwargs(self, request, obj, inline, prefix):
        """`?phone=<number>` on the add form fills in the first phone (links from the unknown-caller worklist)."""
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        # On the add form obj is the new, unsaved customer.
        if request.method == "GET" and (obj is None or obj.pk is None) and isinstance(inline, CustomerPhoneInline):
            e164 = normalize_phone(request.GET.get("phone"))
            if e164 is not None:
                kwargs["initial"] = [{"number": e164}]
        return kwargs

    def get_search_results(self, request, queryset, search_term):
        """Indexed lookups only: the phone's unique index, and prefixes of customer ID and last name.

        icontains on 1,000,000 rows is a full scan per page. The ID prefix uses the
        varchar_pattern_ops index Django keeps for the unique customer_id (IDs are upper-case,
        so the term is tried upper-cased too); the last-name prefix uses migration 0002's
        UPPER(last_name) index on PostgreSQL. "First Last" narrows a last-name match by first name.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(customer_id__startswith=term)
        if term.upper() != term:
            match |= Q(customer_id__startswith=term.upper())
        words = term.split()
        if len(words) == 1:
            match |= Q(last_name__istartswith=term)
        else:
            match |= Q(first_name__istartswith=words[0], last_name__istartswith=" ".join(words[1:]))
        e164 = normalize_phone(term)
        if e164 is not None:
            # Resolved first (one query on the unique index), so the OR stays index-only.
            owners = list(CustomerPhone.objects.filter(number=e164).values_list("customer_id", flat=True))
            match |= Q(pk__in=owners)
        return queryset.filter(match), False

    def has_import_permission(self, request):
        # An import adds and changes customers: it needs both permissions, not just a login.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_valid_export_item_pks(self, request):
        # The library's default lists every pk of the table (1,000,000 here) to validate a
        # selection; checking only the posted pks is one indexed query.
        posted = [pk for pk in request.POST.getlist("export_items") if pk.isdigit()]
        return self.get_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)


from crm import admin_interactions  # noqa: E402,F401 - registers the Interactions admin
