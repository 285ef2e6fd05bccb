"""The page a locked-out sign-in gets: when it may try again."""

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Max, Q
from django.shortcuts import render
from django.utils import timezone

from security.clientip import client_ip


def locked_until(username: str, ip: str):
    """When the lockout of this username or address ends (its newest counted failure + the cool-off)."""
    last = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=ip)).aggregate(last=Max("attempt_time"))
    return (last["last"] or timezone.now()) + settings.AXES_COOLOFF_TIME


def lockout_response(request, original_response=None, credentials=None):
    """429 with "locked, try again at HH:MM" (AXES_LOCKOUT_CALLABLE)."""
    username = get_client_username(request, credentials) or ""
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "username": username,
        "until": timezone.localtime(locked_until(username, client_ip(request))),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    response = render(request, "security/lockout.html", context, status=429)
    response["Retry-After"] = str(max(1, int((context["until"] - timezone.now()).total_seconds())))
    return response
