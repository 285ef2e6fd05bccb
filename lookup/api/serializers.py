"""The Architect envelope and the errors, described for OpenAPI (lookup/api/envelope.py builds them)."""

from rest_framework import serializers


class LookupRequestSerializer(serializers.Serializer):
    """Body of POST /api/customer/lookup (documentation; the view validates by hand)."""

    phoneNumber = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        help_text="The caller, in any format: E.164, national, tel:/sip: URI. Empty, null or "
        "a withheld caller (anonymous, restricted, unknown) gives not_found.",
    )


class CustomerDataSerializer(serializers.Serializer):
    """The `data` object of a successful lookup."""

    customerId = serializers.CharField()
    firstName = serializers.CharField()
    lastName = serializers.CharField()
    tier = serializers.CharField()
    lastInteractionDate = serializers.CharField(help_text="YYYY-MM-DD, or an empty string when unknown.")


class LookupFoundSerializer(serializers.Serializer):
    """200 when the caller is a customer."""

    status = serializers.ChoiceField(choices=["success"])
    data = CustomerDataSerializer()


class LookupNotFoundSerializer(serializers.Serializer):
    """200 when the number is unknown or there is no usable number."""

    status = serializers.ChoiceField(choices=["not_found"])
    data = serializers.JSONField(allow_null=True, help_text="Always null.")


class ErrorSerializer(serializers.Serializer):
    """Every error under /api/."""

    error = serializers.CharField()
