"""Per-token rate limit for the lookup (design §9): shared through the cache, Redis in production."""

from rest_framework.throttling import ScopedRateThrottle


class TokenRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle keyed by the token's name (TokenUser has no pk); by client IP otherwise."""

    def get_cache_key(self, request, view):
        token_name = getattr(request.user, "token_name", None)
        ident = f"token:{token_name}" if token_name else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
