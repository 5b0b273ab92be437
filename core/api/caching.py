"""Cache headers for reads of slow-changing data."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class CacheControlMixin(APIView):
    """Add `Cache-Control: max-age` to successful reads of slow-changing data."""

    cache_max_age = 3600

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response["Cache-Control"] = f"public, max-age={self.cache_max_age}"
        return response
