"""Customers, their phones and tiers: the data support staff keep in the admin."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords

from crm.fields import PossiblePhoneNumberField

# Customer IDs: 1-32 characters, letters, digits, ".", "_" and "-", starting with a letter or
# digit; kept upper-case (design §5), so "cust-001 " and "CUST-001" are the same customer.
CUSTOMER_ID_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,31}$"
CUSTOMER_ID_HELP = (
    "1-32 letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. CUST-001. "
    "Stored upper-case; spaces around it are removed."
)
validate_customer_id = RegexValidator(
    re.compile(CUSTOMER_ID_PATTERN), message=f"Enter a valid customer ID: {CUSTOMER_ID_HELP}", code="invalid"
)


def normalize_customer_id(value: object) -> str:
    """The stored form of a customer ID: trimmed and upper-case."""
    return str(value if value is not None else "").strip().upper()


class CustomerIdField(models.CharField):
    """A CharField that trims and upper-cases on validation and on save."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_customer_id(value) if value is not None else value

    def pre_save(self, model_instance, add):
        value = normalize_customer_id(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value


class Tier(models.Model):
    """A service level (Gold, Silver, ...) that decides how a caller is routed."""

    name = models.CharField(max_length=50, unique=True)
    description = models.TextField(blank=True)
    rank = models.PositiveSmallIntegerField(default=0, help_text="Higher ranks are listed first.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person or account the contact center may hear from."""

    customer_id = CustomerIdField(
        "customer ID",
        max_length=32,
        unique=True,
        validators=[validate_customer_id],
        help_text=f"The ID the contact-center flow receives. {CUSTOMER_ID_HELP}",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    # PROTECT: deleting a tier must not silently delete the customers in it.
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="customers")
    last_interaction_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed what, when, before -> after (admin, imports, bulk actions); see crm/history.py.
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["customer_id"]
        constraints = [
            # unique=True above keeps the index the ID-prefix search uses; these two make the
            # database itself refuse "cust-001" beside "CUST-001", whatever wrote the row.
            models.UniqueConstraint(
                Upper("customer_id"),
                name="crm_customer_unique_customer_id_ci",
                violation_error_message="A customer with this customer ID already exists (IDs ignore case).",
            ),
            models.CheckConstraint(
                condition=models.Q(customer_id=Upper("customer_id")),
                name="crm_customer_customer_id_upper",
                violation_error_message="Customer IDs are stored upper-case.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.customer_id})"

    def validate_constraints(self, exclude=None):
        # The ID is normalised before validation, so the field's own unique check already finds
        # a duplicate in any case and names the field; the database constraints stay the backstop.
        super().validate_constraints(exclude={*(exclude or ()), "customer_id"})


class CustomerPhone(models.Model):
    """One phone number of a customer, stored in E.164 and unique across all customers."""

    class Label(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = PossiblePhoneNumberField(help_text="Any format; stored as E.164, e.g. +15551234567.")
    label = models.CharField(max_length=10, choices=Label.choices, default=Label.MOBILE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            # Also the index the lookup by phone uses.
            models.UniqueConstraint(
                fields=["number"],
                name="crm_customerphone_unique_number",
                violation_error_message="This phone number already belongs to a customer.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.number)

    def clean(self) -> None:
        """Name the customer who already has this number, instead of a bare uniqueness error."""
        if not self.number:
            return
        owner = (
            CustomerPhone.objects.filter(number=self.number)
            .exclude(pk=self.pk)
            .select_related("customer")
            .only("customer__customer_id", "customer__first_name", "customer__last_name")
            .first()
        )
        if owner is not None:
            raise ValidationError({"number": f"{self.number} already belongs to {owner.customer}."})

    def save(self, *args, **kwargs):
        """Save, and give the customer the unknown-caller interactions from this number (same transaction)."""
        # Imported here: crm.interactions builds on these models.
        from crm.interactions import interactions_claim

        # savepoint=False: inside the admin's transaction this adds no SAVEPOINT round trips.
        with transaction.atomic(using=kwargs.get("using") or self._state.db, savepoint=False):
            super().save(*args, **kwargs)
            interactions_claim(numbers=[str(self.number)])


class Job(models.Model):
    """A background import, export or bulk change, with its progress and per-row errors (crm/jobs.py)."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        EXPORT = "export", "Export"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PREVIEWED = "previewed", "Preview ready"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # What the worker does next (import: "preview" then "apply"; export: "export").
    step = models.CharField(max_length=10, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=255, blank=True, help_text="The uploaded or exported file's name.")
    # Paths relative to MEDIA_ROOT; never served directly (downloads check permissions).
    upload = models.CharField(max_length=255, blank=True)
    result = models.CharField(max_length=255, blank=True)
    options = models.JSONField(default=dict, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "background job"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, int(100 * self.rows_done / self.rows_total))


class Interaction(models.Model):
    """One Genesys conversation, merged from its customer-end and after-call-work events."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    conversation_id = models.CharField("conversation ID", max_length=64, unique=True)
    # SET_NULL: deleting a customer keeps the conversations; null is an unmatched caller.
    # db_index=False: the (customer, occurred_at) index below serves the foreign key too.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions", db_index=False
    )
    ani = models.CharField("caller number", max_length=32, blank=True, help_text="E.164, or empty when withheld.")
    dnis = models.CharField("dialled number", max_length=100, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    media_type = models.CharField(max_length=20, blank=True)
    disconnect_type = models.CharField(max_length=30, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When the customer left (customer end event).")
    duration_ms = models.PositiveBigIntegerField("duration (ms)", null=True, blank=True)
    queue_id = models.CharField("queue", max_length=64, blank=True)
    agent_id = models.CharField("agent", max_length=64, blank=True, help_text="The Genesys user who wrapped up.")
    wrapup_code = models.CharField("wrap-up code", max_length=100, blank=True)
    wrapup_notes = models.TextField("wrap-up notes", blank=True)
    wrapup_at = models.DateTimeField("wrapped up at", null=True, blank=True)
    # The latest event's time: orders the lists and gives the customer's last interaction date.
    occurred_at = models.DateTimeField("time")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The changelist's default order, and its date filter.
            models.Index(fields=["-occurred_at", "-id"], name="crm_inter_occurred_idx"),
            # The customer page's recent interactions and the matched/unmatched filter.
            models.Index(fields=["customer", "-occurred_at", "-id"], name="crm_inter_customer_idx"),
            models.Index(fields=["wrapup_code", "-occurred_at", "-id"], name="crm_inter_wrapup_idx"),
            # Unknown callers by wrap-up code (the worklist's "unknown and Escalated"): a tenth of the
            # rows, so a small partial index; without it a rare pair reads every row of the code.
            models.Index(
                fields=["wrapup_code", "-occurred_at", "-id"],
                condition=models.Q(customer__isnull=True),
                name="crm_inter_unknown_wrapup_idx",
            ),
            models.Index(fields=["queue_id", "-occurred_at", "-id"], name="crm_inter_queue_idx"),
            # "Who called from this number": the changelist's search by phone.
            models.Index(fields=["ani", "-occurred_at", "-id"], name="crm_inter_ani_idx"),
            # The unknown-caller worklist: unmatched numbers of a window, read from this small index alone.
            models.Index(
                fields=["occurred_at", "ani"],
                condition=models.Q(customer__isnull=True) & ~models.Q(ani=""),
                name="crm_inter_unknown_ani_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(started_at__isnull=True)
                | models.Q(ended_at__isnull=True)
                | models.Q(started_at__lte=models.F("ended_at")),
                name="crm_interaction_started_before_ended",
            ),
        ]

    def __str__(self) -> str:
        return self.conversation_id
