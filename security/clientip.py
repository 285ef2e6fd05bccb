"""The client's address for lockouts and login logs."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind our TLS proxy (DJANGO_BEHIND_TLS_PROXY=1) the address it appended.

    The proxy appends the address it saw to X-Forwarded-For, so the last entry is the only one
    not written by the client; entries before it are whatever the client sent.
    """
    if settings.SECURITY_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")
