"""Request ids: accept a sane incoming X-Request-ID (from the load balancer) or make one."""

import re
import uuid

# Put into the WSGI environ (request.META) for gunicorn's access log (config.accesslog),
# beside the token name the lookup API leaves there (lookup.contract.TOKEN_NAME_KEY).
REQUEST_ID_KEY = "crm.request_id"

HEADER = "X-Request-ID"
# Letters, digits and a few separators, at most 128 chars: safe to log and to echo back.
SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestIdMiddleware:
    """Put the request id into the WSGI environ (for the access log) and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        # request.META *is* the WSGI environ, which gunicorn's access logger reads.
        request.META[REQUEST_ID_KEY] = request_id
        response = self.get_response(request)
        response[HEADER] = request_id
        return response
