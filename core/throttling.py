"""API throttling per client: anonymous callers by address, people by account, service
accounts by token, each at its rate in settings.API_THROTTLE_RATES (`anon`, `user`, `token`).

Over the rate the API answers 429 with Retry-After and the API's error body (DRF's Throttled,
through core.api.exception_handler). The counters live in the default cache, which several
web workers must share (Redis in production, config/settings.py).
"""

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken

logger = logging.getLogger(__name__)


class ClientRateThrottle(SimpleRateThrottle):
    """One budget per client. Rates are read per request, not when the class is imported (as
    DRF's own throttles do), so a changed setting applies without reloading the views."""

    def __init__(self):  # the rate depends on the request: see allow_request
        pass

    def client(self, request) -> tuple[str, str]:
        """(scope, identity) of the caller."""
        if isinstance(request.auth, ApiToken):
            return "token", request.auth.prefix
        if request.user and request.user.is_authenticated:
            return "user", str(request.user.pk)
        return "anon", self.get_ident(request)

    def allow_request(self, request, view):
        self.scope, self.ident = self.client(request)
        self.rate = settings.API_THROTTLE_RATES.get(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            # An unreachable cache must not take the API down with it: let the request in.
            logger.warning("API throttle: the cache is unavailable", exc_info=True)
            return True

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}
