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
