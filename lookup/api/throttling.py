"""Per-token rate limit for the lookup (design §9): shared through the cache, Redis in production."""

import logging

from prometheus_client import Counter
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)
FAIL_OPEN = Counter("lookup_throttle_fail_open", "Lookups let through unthrottled because the cache was unreachable.")


class TokenRateThrottle(ScopedRateThrottle):
    """A fixed-window counter per token name (TokenUser has no pk), or per client IP without one.

    DRF's SimpleRateThrottle keeps every request's timestamp in one cached list and re-pickles
    it on each request: at 6000/min that is a 6000-item list per lookup. A counter per window is
    one cache increment; the price is that a burst may straddle two windows (fair use, not security).
    """

    def get_cache_key(self, request, view):
        token_name = getattr(request.user, "token_name", None)
        ident = f"token:{token_name}" if token_name else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        window = int(self.timer() // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{self.get_cache_key(request, view)}:{window}"
        try:
            try:
                count = self.cache.incr(key)
            except ValueError:  # first request of the window; add() is atomic, so a racing add loses and increments
                count = 1 if self.cache.add(key, 1, timeout=self.duration + 1) else self.cache.incr(key)
        except Exception as error:  # Redis down or slow: a caller must not lose the lookup over a rate limit
            FAIL_OPEN.inc()
            logger.warning("throttle failed open: the cache is unreachable (%s)", type(error).__name__)
            return True
        return count <= self.num_requests

    def wait(self):
        """Seconds until the current window ends (sent as Retry-After)."""
        return max(self.window_end - self.timer(), 0)
