"""OpenAPI declarations of the lookup API: the Bearer scheme and every response (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer

from lookup.api.serializers import (
    ErrorSerializer,
    LookupFoundSerializer,
    LookupNotFoundSerializer,
)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents BearerTokenAuthentication as HTTP bearer auth."""

    target_class = "lookup.api.authentication.BearerTokenAuthentication"
    name = "BearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Missing phoneNumber field, malformed JSON, wrong type"),
    401: OpenApiResponse(ErrorSerializer, description='{"error":"Unauthorized"} with WWW-Authenticate: Bearer'),
    413: OpenApiResponse(ErrorSerializer, description="Body over 64 KiB"),
    415: OpenApiResponse(ErrorSerializer, description="Content-Type is not application/json"),
    429: OpenApiResponse(ErrorSerializer, description="Throttled; see Retry-After"),
    500: OpenApiResponse(ErrorSerializer, description='{"error":"Internal server error"}'),
    503: OpenApiResponse(ErrorSerializer, description="Database unreachable"),
}
LOOKUP_RESPONSES = {
    200: OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="LookupResult",
            serializers=[LookupFoundSerializer, LookupNotFoundSerializer],
            resource_type_field_name=None,
        ),
        description='{"status":"success","data":{...}} or {"status":"not_found","data":null}',
    ),
    **ERROR_RESPONSES,
}
