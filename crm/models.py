"""Customers, their phones and tiers: the data support staff keep in the admin."""

from django.core.exceptions import ValidationError
from django.db import models

from crm.fields import PossiblePhoneNumberField


class Tier(models.Model):
    """A service level (Gold, Silver, ...) that decides how a caller is routed."""

    name = models.CharField(max_length=50, unique=True)
    description = models.TextField(blank=True)
    rank = models.PositiveSmallIntegerField(default=0, help_text="Higher ranks are listed first.")

    class Meta:
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person or account the contact center may hear from."""

    customer_id = models.CharField(
        "customer ID",
        max_length=32,
        unique=True,
        help_text="The ID the contact-center flow receives, e.g. CUST-001.",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    # PROTECT: deleting a tier must not silently delete the customers in it.
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="customers")
    last_interaction_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.customer_id})"


class CustomerPhone(models.Model):
    """One phone number of a customer, stored in E.164 and unique across all customers."""

    class Label(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = PossiblePhoneNumberField(help_text="Any format; stored as E.164, e.g. +15551234567.")
    label = models.CharField(max_length=10, choices=Label.choices, default=Label.MOBILE)

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
            models.Index(fields=["queue_id", "-occurred_at", "-id"], name="crm_inter_queue_idx"),
            # "Who called from this number": the changelist's search by phone.
            models.Index(fields=["ani", "-occurred_at", "-id"], name="crm_inter_ani_idx"),
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
