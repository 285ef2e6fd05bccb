"""Bearer token authentication for the lookup API, following DRF's contract."""

import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from lookup.contract import TOKEN_NAME_KEY
from lookup.models import ApiToken, token_digest

logger = logging.getLogger(__name__)

# The name audit events and logs carry for the optional single shared secret.
SHARED_SECRET_NAME = "LOOKUP_SECRET"


@dataclass(frozen=True)
class TokenUser:
    """The caller behind a token: authenticated, but not a Django user."""

    token_name: str
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`: a named ApiToken (by digest) or LOOKUP_SECRET."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None  # no credentials: IsAuthenticated answers 401 with our header
        scheme, _, raw = header.partition(" ")
        # The scheme is case-insensitive (RFC 7235). Another scheme is not ours to judge:
        # return None as DRF expects, and IsAuthenticated answers 401.
        if scheme.lower() != self.keyword.lower():
            logger.info("lookup authentication failed: not a Bearer token")
            return None
        # Exactly one space and no stray whitespace: Architect copies the header verbatim,
        # and a silent trim would hide the misconfiguration the probe is there to name.
        if not raw or raw != raw.strip() or " " in raw:
            raise self.failed("malformed Bearer header (empty token, extra parts or stray spaces)")
        user, token = self.authenticate_token(raw)
        # The WSGI environ carries the name (never the token) to gunicorn's access log.
        request.META[TOKEN_NAME_KEY] = user.token_name
        return user, token

    def authenticate_token(self, raw: str):
        shared = settings.LOOKUP_SECRET
        if shared and hmac.compare_digest(raw.encode("utf-8", "surrogatepass"), shared.encode()):
            return TokenUser(SHARED_SECRET_NAME), None
        token = ApiToken.objects.active_by_digest(token_digest(raw))
        if token is None:
            raise self.failed("unknown or revoked token")
        token.touch()
        return TokenUser(token.name), token

    def authenticate_header(self, request) -> str:
        return self.keyword

    def failed(self, reason: str) -> exceptions.AuthenticationFailed:
        # The reason is logged for operators; the caller only ever sees "Unauthorized".
        logger.info("lookup authentication failed: %s", reason)
        return exceptions.AuthenticationFailed(reason)
