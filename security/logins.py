"""One structured log line per sign-in event: success, failure, lockout, logout. Never a password."""

import logging
import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from security.clientip import client_ip
from security.middleware import LAST_SEEN_KEY

log = logging.getLogger("security.auth")


def _line(event: str, username: str, request) -> str:
    ip = client_ip(request) if request is not None else ""
    path = request.path if request is not None else ""
    # repr() quotes and escapes whatever the client typed, so a username cannot forge a line.
    return f"event={event} username={username!r} ip={ip} path={path}"


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    log.info(_line("login_succeeded", user.get_username(), request))
    if hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = int(time.time())  # the idle clock starts now, in the login's own write


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    log.warning(_line("login_failed", str(credentials.get("username", "")), request))


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    log.warning(_line("login_locked_out", str(username or ""), request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    log.info(_line("logout", user.get_username() if user else "", request))
