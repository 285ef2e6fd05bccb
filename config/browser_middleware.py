"""Django's browser middleware, kept off the lookup API."""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages

# The lookup API is token-authenticated JSON: no session users or flash messages.
# These subclasses skip their work there (a few percent of a lookup's CPU) and act as before
# everywhere else; as subclasses they still satisfy the admin's middleware checks. Sessions
# and X-Frame-Options stay as Django's own (check --deploy inspects them by name), and so does
# CommonMiddleware (it validates the Host header and sets Content-Length).
API_PREFIX = "/api/"


class BrowserOnlyMixin:
    """Pass /api/ requests straight through; run the middleware for every other path."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class AuthenticationMiddleware(BrowserOnlyMixin, auth.AuthenticationMiddleware):
    """request.user for the admin, except on the API (DRF authenticates there)."""


class MessageMiddleware(BrowserOnlyMixin, messages.MessageMiddleware):
    """Admin flash messages, except on the API."""
