"""What every token-authenticated JSON endpoint of the API shares: auth, parsers, throttle, body limit."""

import time

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from lookup.api.authentication import BearerTokenAuthentication
from lookup.api.parsers import FormEncodedJSONParser, JSONParser, JSONRenderer, check_body_size
from lookup.api.throttling import TokenRateThrottle


class TokenJsonApi(APIView):
    """Bearer token, JSON in and out, the per-token throttle of `throttle_scope`, the 64 KiB limit."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormEncodedJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = [TokenRateThrottle]

    def perform_content_negotiation(self, request, force=False):
        """JSON whatever the Accept header says: the flow maps JSON, and there is nothing else to offer."""
        renderer = self.renderer_classes[0]()
        return renderer, renderer.media_type

    def initial(self, request, *args, **kwargs):
        self.started = time.perf_counter()
        super().initial(request, *args, **kwargs)  # authentication first: the body is not read before it
        check_body_size(request)
