"""Admin pages where support staff keep customers, their phones and tiers."""

from django.contrib import admin
from django.db.models import Q

from crm.models import Customer, CustomerPhone, Tier
from crm.phones import normalize_phone


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


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers with tier, phones inline, searchable by name, ID and phone in any format."""

    list_display = ["customer_id", "first_name", "last_name", "tier", "phone_numbers", "last_interaction_date"]
    list_display_links = ["customer_id", "first_name", "last_name"]
    list_filter = ["tier"]
    list_select_related = ["tier"]
    search_fields = ["customer_id", "first_name", "last_name"]
    search_help_text = "Name, customer ID, or a phone number in any format, e.g. (555) 123-4567."
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["customer_id", ("first_name", "last_name"), "tier", "last_interaction_date"]}),
        ("Notes", {"fields": ["notes"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [CustomerPhoneInline]
    # A full COUNT(*) per page is the slowest part of a large changelist.
    show_full_result_count = False

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
        """A term that is a possible phone number also matches that number, whatever its format."""
        e164 = normalize_phone(search_term.strip())
        if e164 is None:
            return super().get_search_results(request, queryset, search_term)
        by_phone = Q(pk__in=CustomerPhone.objects.filter(number=e164).values("customer_id"))
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.filter(by_phone) | results, may_have_duplicates
