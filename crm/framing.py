"""Opt-in framing of the screen-pop pages by the agent desktop (DJANGO_FRAME_ANCESTORS)."""

import re

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

# The pages a screen pop opens inside the agent desktop's iframe: the pop itself, the admin
# login it may bounce through, and the customer pages it redirects to. Every other page keeps
# X-Frame-Options: DENY (and CSP frame-ancestors 'none' where a CSP is set).
FRAMEABLE_PATHS = re.compile(r"^/(crm/caller/|admin/login/|admin/crm/customer/(add/|\d+/change/))")

CSP_HEADER = "Content-Security-Policy"


class FrameAncestorsMiddleware:
    """On the screen-pop pages, allow the configured origins to frame the page instead of DENY.

    Listed after XFrameOptionsMiddleware, so it sees the response first: it marks the response
    exempt from X-Frame-Options, and gives the CSP frame-ancestors directive (through
    django-csp's per-response replace when that middleware runs, else as its own header).
    """

    def __init__(self, get_response):
        if not settings.FRAME_ANCESTORS:
            raise MiddlewareNotUsed  # off by default: no cost, every page DENY as before
        self.get_response = get_response
        self.sources = ["'self'", *settings.FRAME_ANCESTORS]
        self.uses_django_csp = "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE

    def __call__(self, request):
        response = self.get_response(request)
        if FRAMEABLE_PATHS.match(request.path_info):
            response.xframe_options_exempt = True
            if self.uses_django_csp:
                response._csp_replace = {**getattr(response, "_csp_replace", {}), "frame-ancestors": self.sources}
            else:
                response[CSP_HEADER] = "frame-ancestors " + " ".join(self.sources)
        return response
