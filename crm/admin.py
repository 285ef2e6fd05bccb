"""Admin pages where support staff keep customers, their phones and tiers, and run imports and exports."""

import logging

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from crm import jobs
from crm.history import customer_history
from crm.models import Customer, CustomerPhone, Job, Tier
from crm.paginators import LargeTablePaginator
from crm.phones import normalize_phone
from crm.selectors import customer_search_filter
from crm.tables import COLUMNS, REQUIRED

logger = logging.getLogger(__name__)


@admin.register(Tier)
class TierAdmin(SimpleHistoryAdmin):
    """Tiers are few and edited rarely; "History" shows every change with its values."""

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
# Selections up to this size change tier inside the request (with their history rows).
CHANGE_TIER_MAX = 5000


@admin.action(description="Change tier of selected customers", permissions=["change"])
def change_tier(modeladmin, request, queryset):
    """Intermediate page with a tier select; on submit one UPDATE moves every selected customer."""
    form = ChangeTierForm(request.POST if "apply" in request.POST else None)
    count = queryset.count()
    if count > CHANGE_TIER_MAX:
        modeladmin.message_user(
            request,
            f"{count} customers are selected; the tier of at most {CHANGE_TIER_MAX} changes at once. "
            "Narrow the selection (filter or search), or import a file with the new tiers.",
            messages.ERROR,
        )
        return None
    if form.is_valid():
        tier = form.cleaned_data["tier"]
        now = timezone.now()
        with transaction.atomic():
            moved = list(queryset.exclude(tier=tier).order_by("pk").select_for_update())
            changed = Customer.objects.filter(pk__in=[c.pk for c in moved]).update(tier=tier, updated_at=now)
            for customer in moved:
                customer.tier = tier
            # One history row per moved customer, written in bulk (crm/history.py).
            Customer.history.bulk_history_create(
                moved,
                update=True,
                default_user=request.user,
                default_change_reason="Bulk action: change tier",
                default_date=now,
            )
        modeladmin.message_user(request, f"Moved {changed} customer(s) to {tier}.")
        return None  # back to the changelist
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


def _export_action(fmt: str):
    @admin.action(description=f"Export selected customers ({fmt.upper()})", permissions=["view"])
    def export_selected(modeladmin, request, queryset):
        if request.POST.get("select_across") == "1":
            # Every customer the changelist matches: keep its search and filter, not a million pks.
            options = {"q": request.GET.get("q", ""), "tier": request.GET.get("tier__id__exact") or None}
        else:
            options = {"pks": [int(pk) for pk in queryset.values_list("pk", flat=True)]}
        return modeladmin.start_export(request, {**options, "format": fmt})

    export_selected.__name__ = f"export_selected_{fmt}"
    return export_selected


class ImportForm(forms.Form):
    import_file = forms.FileField(
        label="File",
        help_text="CSV (any encoding Excel writes; comma, semicolon or tab) or XLSX. One row per customer.",
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")], initial="csv")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers with tier, phones inline, searchable by ID, name and phone in any format; import/export jobs."""

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
    actions = [change_tier, _export_action("csv"), _export_action("xlsx")]
    # A full COUNT(*) per page is the slowest part of a large changelist: neither the
    # "N total" count nor the paginator's count runs over the whole table.
    show_full_result_count = False
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "admin/crm/customer/change_list.html"
    change_form_template = "admin/crm/customer/change_form.html"

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
        """Indexed lookups only (crm.selectors.customer_search_filter)."""
        if not search_term.strip():
            return queryset, False
        return queryset.filter(customer_search_filter(search_term)), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The change form plus the customer's edit history, for users allowed to read it."""
        extra_context = dict(extra_context or {})
        if request.user.has_perm("crm.view_historicalcustomer"):
            customer = self.get_object(request, admin.utils.unquote(object_id))
            if customer is not None:
                extra_context["edit_history"] = customer_history(customer)
                extra_context["show_edit_history"] = True
        return super().change_view(request, object_id, form_url, extra_context)

    # -- import and export --------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="crm_customer_import"),
            path("export/", wrap(self.export_view), name="crm_customer_export"),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        # An import adds and changes customers: it needs both permissions, not just a login.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload a file: a job previews it (in the request when small), then the job page shows the preview."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            uploaded = form.cleaned_data["import_file"]
            limit = settings.CRM_IMPORT_MAX_FILE_MB
            if uploaded.size > limit * 1024 * 1024:
                form.add_error(
                    "import_file",
                    f"The file is {uploaded.size / 1024 / 1024:.1f} MB; the limit is {limit} MB. "
                    "Split it into smaller files.",
                )
            else:
                job = Job.objects.create(kind=Job.Kind.IMPORT, step="preview", created_by=request.user)
                jobs.save_upload(job, uploaded)
                start_job(job, inline=uploaded.size <= settings.CRM_INLINE_IMPORT_BYTES)
                return HttpResponseRedirect(reverse("admin:crm_job_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import customers",
            "opts": self.model._meta,
            "form": form,
            "columns": COLUMNS,
            "required": REQUIRED,
            "max_mb": settings.CRM_IMPORT_MAX_FILE_MB,
            "max_cell": settings.CRM_IMPORT_MAX_CELL_CHARS,
        }
        return TemplateResponse(request, "admin/crm/customer/import.html", context)

    def export_view(self, request):
        """Export every customer as a job; the job page offers the file when it is written."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        form = ExportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self.start_export(request, {"format": form.cleaned_data["format"]})
        context = {
            **self.admin_site.each_context(request),
            "title": "Export customers",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/crm/customer/export.html", context)

    def start_export(self, request, options: dict):
        job = Job.objects.create(kind=Job.Kind.EXPORT, step="export", created_by=request.user, options=options)
        small = options.get("pks") is not None and len(options["pks"]) <= INLINE_EXPORT_ROWS
        start_job(job, inline=small)
        return HttpResponseRedirect(reverse("admin:crm_job_change", args=[job.pk]))


# An explicit selection (a changelist page at most) is written inside the request.
INLINE_EXPORT_ROWS = 1000


def start_job(job: Job, *, inline: bool) -> None:
    """Run a job's step now (small files) or hand it to the worker."""
    job.state = Job.State.QUEUED
    job.save(update_fields=["state", "step"])
    if inline:
        jobs.execute(job)
    else:
        # After commit: the worker must find the job row (ATOMIC_REQUESTS or a caller's transaction).
        transaction.on_commit(lambda: jobs.run_job.enqueue(job.pk))


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Imports and exports: state, progress, per-row errors, preview, confirmation and download."""

    list_display = ["__str__", "kind", "state", "filename", "progress", "created_by", "created_at"]
    list_filter = ["kind", "state"]
    change_form_template = "admin/crm/job/detail.html"

    # Anyone who may see customers may see the jobs (their contents are customers); nobody edits them.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("crm.view_customer")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("crm.view_customer") and (
            obj is None or obj.created_by_id == request.user.pk or request.user.is_superuser
        )

    def delete_model(self, request, obj):
        jobs.delete_files(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            jobs.delete_files(job)
        super().delete_queryset(request, queryset)

    @admin.display(description="Progress")
    def progress(self, job: Job) -> str:
        done = jobs.read_progress(job) if job.is_active else job.rows_done
        if job.rows_total:
            return f"{done:,} of {'about ' if job.is_active else ''}{job.rows_total:,} rows"
        return f"{done:,} rows"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:job_id>/confirm/", wrap(self.confirm_view), name="crm_job_confirm"),
            path("<int:job_id>/download/", wrap(self.download_view), name="crm_job_download"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = get_object_or_404(Job, pk=object_id) if str(object_id).isdigit() else None
        if job is None:
            raise Http404
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        customer_admin = self.admin_site._registry[Customer]
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "opts": self.model._meta,
            "job": job,
            "rows_done": jobs.read_progress(job) if job.is_active else job.rows_done,
            "can_confirm": job.kind == Job.Kind.IMPORT
            and job.state == Job.State.PREVIEWED
            and (job.totals.get("new") or job.totals.get("update"))
            and customer_admin.has_import_permission(request),
            "more_changes": max(0, (job.totals.get("new", 0) + job.totals.get("update", 0)) - len(job.changes)),
            "more_errors": max(0, job.error_count - len(job.errors)),
            "can_download": job.kind == Job.Kind.EXPORT and job.state == Job.State.DONE and bool(job.result),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def confirm_view(self, request, job_id):
        """POST: import a previewed file (the worker re-checks every row in the import's transaction)."""
        job = get_object_or_404(Job, pk=job_id, kind=Job.Kind.IMPORT)
        if request.method != "POST" or not self.admin_site._registry[Customer].has_import_permission(request):
            raise PermissionDenied
        if job.state != Job.State.PREVIEWED:
            self.message_user(request, "This import is not waiting for confirmation.", messages.WARNING)
        else:
            job.step = "apply"
            size = jobs.media_path(job.upload).stat().st_size
            start_job(job, inline=size <= settings.CRM_INLINE_IMPORT_BYTES)
        return HttpResponseRedirect(reverse("admin:crm_job_change", args=[job.pk]))

    def download_view(self, request, job_id):
        """The finished export, to staff who may view customers; never served from a public URL."""
        job = get_object_or_404(Job, pk=job_id, kind=Job.Kind.EXPORT, state=Job.State.DONE)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        path = jobs.media_path(job.result)
        if not job.result or not path.is_file():
            raise Http404("The exported file is no longer there; export again.")
        content_type = (
            "text/csv; charset=utf-8"
            if path.suffix == ".csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return FileResponse(open(path, "rb"), as_attachment=True, filename=job.filename, content_type=content_type)
