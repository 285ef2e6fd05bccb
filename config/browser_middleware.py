"""Django's browser middleware, kept off the lookup API."""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.middleware import common

# The lookup API is token-authenticated JSON: no slash redirects, users or messages.
# These subclasses skip their work there (about a tenth of a lookup's CPU) and act as before
# everywhere else; as subclasses they still satisfy the admin's middleware checks. Sessions
# and X-Frame-Options stay as Django's own: check --deploy inspects them by name.
API_PREFIX = "/api/"


class BrowserOnlyMixin:
    """Pass /api/ requests straight through; run the middleware for every other path."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class CommonMiddleware(BrowserOnlyMixin, common.CommonMiddleware):
    """Slash redirects and Content-Length, except on the API."""


class AuthenticationMiddleware(BrowserOnlyMixin, auth.AuthenticationMiddleware):
    """request.user for the admin, except on the API (DRF authenticates there)."""


class MessageMiddleware(BrowserOnlyMixin, messages.MessageMiddleware):
    """Admin flash messages, except on the API."""
