"""A PhoneNumberField that stores E.164 for every *possible* number (design §6)."""

from django import forms
from phonenumber_field import formfields, modelfields

from crm.phones import normalize_phone, to_phone_number, validate_possible_phone


class PossiblePhoneNumberFormField(formfields.PhoneNumberField):
    """Form field that accepts any format §6 lists and shows E.164 back to the user."""

    default_validators = [validate_possible_phone]
    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "+15551234567 or (555) 123-4567"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return self.empty_value
        return to_phone_number(value, self.region)

    def prepare_value(self, value):
        return str(value) if value else value


class PhoneDescriptor(modelfields.PhoneNumberDescriptor):
    """Normalises on assignment, so admin forms, fixtures and ORM writes all hold E.164."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.name] = to_phone_number(value, self.field.region)


class PossiblePhoneNumberField(modelfields.PhoneNumberField):
    """Model field: E.164 in the database, validated with is_possible rather than is_valid."""

    default_validators = [validate_possible_phone]
    descriptor_class = PhoneDescriptor

    def to_python(self, value):
        return to_phone_number(value, self.region)

    def get_prep_value(self, value):
        value = self.to_python(value)
        if not value:
            return value
        # Lookups by any format (filter(number="(555) 123-4567")) meet the stored E.164.
        return normalize_phone(str(value), self.region) or str(value)

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", PossiblePhoneNumberFormField)
        return super().formfield(**kwargs)
