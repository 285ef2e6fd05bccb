"""Session idle timeout and mandatory two-factor sign-in (ADMIN_REQUIRE_2FA)."""

import time
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

LAST_SEEN_KEY = "security.last_seen"
# The session is written when the stored time is this old, not on every request.
LAST_SEEN_RESOLUTION = 60


class SessionIdleTimeoutMiddleware:
    """Sign out a user whose session has been idle longer than SESSION_IDLE_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)  # absent on /api/ (config.browser_middleware)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN_KEY)
            if last is not None and now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)  # the admin then asks for a sign-in, with ?next= back to this page
            elif last is None or now - last >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def two_factor_required(user) -> bool:
    """Whether ADMIN_REQUIRE_2FA applies to this user."""
    mode = settings.ADMIN_REQUIRE_2FA
    if not mode or not user.is_authenticated or not user.is_staff:
        return False
    return mode == "staff" or user.is_superuser


class Require2FAMiddleware:
    """Send a user who must use two factors to the two-factor page until this session is verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and two_factor_required(user) and not user.is_verified():
            allowed = (reverse("security:two-factor"), reverse("admin:logout"), f"/{settings.STATIC_URL.lstrip('/')}")
            if not request.path.startswith(allowed):
                return redirect(f"{reverse('security:two-factor')}?next={quote(request.get_full_path())}")
        return self.get_response(request)
