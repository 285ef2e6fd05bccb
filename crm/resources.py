"""CSV/XLSX import and export of customers with their tier and phones (django-import-export).

One row per customer. Columns: customer_id, first_name, last_name, tier (by name),
last_interaction_date (YYYY-MM-DD), notes, phones. The phones column lists numbers
separated by ";", each optionally prefixed by its label: "mobile:+15551234567; work:(555) 987-6543".
A number without a label is a mobile. Numbers go through crm.phones.normalize_phone like
everywhere else, so any format §6 accepts works.

An import is all-or-nothing: any row error (bad phone, unknown tier, duplicate phone, missing
customer ID) rolls the whole file back, and the preview lists every error before anything is
written. Re-importing an unchanged file skips every row.
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader

from crm.models import Customer, CustomerPhone, Tier
from crm.phones import normalize_phone

PHONE_SEPARATOR = ";"
LABELS = frozenset(CustomerPhone.Label.values)


def parse_phones(text) -> list[tuple[str, str]]:
    """Parse a phones cell into (E.164, label) pairs; ValueError names every bad entry."""
    entries, errors = [], []
    for item in str(text or "").split(PHONE_SEPARATOR):
        item = item.strip()
        if not item:
            continue
        label, _, rest = item.partition(":")
        if rest and label.strip().lower() in LABELS:
            label, raw = label.strip().lower(), rest.strip()
        else:  # no label, or a "tel:" URI whose scheme is not a label
            label, raw = CustomerPhone.Label.MOBILE, item
        e164 = normalize_phone(raw)
        if e164 is None:
            errors.append(f"{raw!r} is not a possible phone number")
        else:
            entries.append((e164, label))
    if errors:
        raise ValueError("; ".join(errors) + ". Use e.g. mobile:+15551234567; work:(555) 987-6543.")
    return entries


def format_phones(pairs) -> str:
    """The phones cell for (E.164, label) pairs: "mobile:+15551234567; work:+15559876543"."""
    return f"{PHONE_SEPARATOR} ".join(f"{label}:{e164}" for e164, label in pairs)


class TierWidget(widgets.Widget):
    """A tier by its name; an unknown name is a row error that lists the tiers there are."""

    def __init__(self):
        super().__init__()
        self._by_name = None

    def clean(self, value, row=None, **kwargs):
        name = str(value or "").strip()
        if not name:
            raise ValueError("Missing tier.")
        if self._by_name is None:  # one query per import, not per row
            self._by_name = {tier.name.lower(): tier for tier in Tier.objects.all()}
        tier = self._by_name.get(name.lower())
        if tier is None:
            known = ", ".join(sorted(t.name for t in self._by_name.values()))
            raise ValueError(f"Unknown tier {name!r}; tiers are: {known}.")
        return tier

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class CustomerResource(resources.ModelResource):
    """Customers, one row each, with tier by name and all phones in one column."""

    customer_id = fields.Field(attribute="customer_id", column_name="customer_id", widget=widgets.CharWidget())
    # Text columns: an empty cell (None in XLSX) is an empty string, as in CSV.
    first_name = fields.Field(attribute="first_name", column_name="first_name", widget=widgets.CharWidget())
    last_name = fields.Field(attribute="last_name", column_name="last_name", widget=widgets.CharWidget())
    notes = fields.Field(attribute="notes", column_name="notes", widget=widgets.CharWidget())
    tier = fields.Field(attribute="tier", column_name="tier", widget=TierWidget())
    # Not a model attribute: parsed and saved by this resource (see import_instance, after_save_instance).
    phones = fields.Field(column_name="phones")

    class Meta:
        model = Customer
        fields = ["customer_id", "first_name", "last_name", "tier", "last_interaction_date", "notes", "phones"]
        export_order = fields
        import_id_fields = ["customer_id"]
        instance_loader_class = CachedInstanceLoader  # one query loads every customer of the file
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_queryset(self):
        return Customer.objects.select_related("tier").prefetch_related("phones")

    def dehydrate_phones(self, customer: Customer) -> str:
        return format_phones(_current_phones(customer))

    def before_import(self, dataset, **kwargs):
        """Find every number's rows and current owner up front: duplicates need the whole file."""
        self._rows_by_number: dict[str, set[int]] = {}
        if "phones" not in (dataset.headers or []):
            self._owners = {}
            return
        for row_number, row in enumerate(dataset.dict, 1):
            try:
                pairs = parse_phones(row.get("phones"))
            except ValueError:
                continue  # reported on its own row
            for e164, _label in pairs:
                self._rows_by_number.setdefault(e164, set()).add(row_number)
        numbers = list(self._rows_by_number)
        self._owners = {}
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            owned = CustomerPhone.objects.filter(number__in=chunk).values_list("number", "customer__customer_id")
            self._owners.update({str(number): owner for number, owner in owned})

    def import_instance(self, instance, row, **kwargs):
        """Model fields first, then the checks that need the row: customer ID and phones."""
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if not str(row.get("customer_id") or "").strip():
            errors["customer_id"] = ["Missing customer ID."]
        instance._import_phones = None  # None: the file has no phones column, keep the phones
        if "phones" in row:
            try:
                instance._import_phones = parse_phones(row["phones"])
            except ValueError as error:
                errors["phones"] = [str(error)]
            else:
                problems = self._phone_conflicts(instance, kwargs.get("row_number"))
                if problems:
                    errors["phones"] = problems
        if errors:
            raise ValidationError(errors)

    def _phone_conflicts(self, instance, row_number) -> list[str]:
        problems, seen = [], set()
        for e164, _label in instance._import_phones:
            if e164 in seen:
                problems.append(f"{e164} is listed twice in this row.")
                continue
            seen.add(e164)
            others = sorted(self._rows_by_number.get(e164, set()) - {row_number})
            if others:
                rows = ", ".join(str(n) for n in others)
                problems.append(f"{e164} is also in row {rows} of this file.")
            owner = self._owners.get(e164)
            if owner is not None and owner != instance.customer_id:
                problems.append(f"{e164} already belongs to customer {owner}.")
        return problems

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Unchanged means the model fields and the phones: then the row is reported as skipped."""
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        if instance._import_phones is None:
            return True
        current = _current_phones(instance) if instance.pk else []
        return sorted(current) == sorted(instance._import_phones)

    def after_save_instance(self, instance, row, **kwargs):
        """Make the customer's phones those of the row, in the import's transaction."""
        wanted = getattr(instance, "_import_phones", None)
        if wanted is None:
            return
        existing = {str(phone.number): phone for phone in instance.phones.all()}
        labels = dict(wanted)
        stale = [phone.pk for e164, phone in existing.items() if e164 not in labels]
        if stale:
            CustomerPhone.objects.filter(pk__in=stale).delete()
        for e164, label in wanted:
            phone = existing.get(e164)
            if phone is None:
                CustomerPhone.objects.create(customer=instance, number=e164, label=label)
            elif phone.label != label:
                CustomerPhone.objects.filter(pk=phone.pk).update(label=label)

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        # All-or-nothing: a row with validation errors rolls back the whole file, not only itself.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run, raise_errors, use_transactions, **kwargs)


def _current_phones(customer: Customer) -> list[tuple[str, str]]:
    """(E.164, label) of a saved customer's phones, from the prefetch cache when there is one."""
    return [(str(phone.number), phone.label) for phone in customer.phones.all()]
