"""The frontend distribution's behaviour as data: SPA routing, security headers, error pages.

One place for what CloudFront does in front of the SPA bucket. The CDK construct
(infra/components/frontend_hosting.py) builds the CloudFront Function, response headers policy and
error responses from it, and ``inv local.serve`` (tmkit/localserve.py) applies the same rules when it
serves the bucket from the emulator. Pure data and functions: no AWS, no CDK imports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# ---- routing ---------------------------------------------------------------------------------------
INDEX = "/index.html"  # the app shell (also CloudFront's default root object)

# Viewer-request function: a path whose last segment has no "." is a client-side route and gets
# the app shell; anything that looks like a file goes to S3 unchanged, so a missing asset is a
# real 404 (never index.html served as JavaScript). Limitation: a route segment containing a dot
# (e.g. /users/jane.doe) is treated as a file. ``spa_rewrite`` below is the same rule in Python.
SPA_ROUTING_JS = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def spa_rewrite(uri: str) -> str:
    """The URI the origin is asked for: ``SPA_ROUTING_JS`` in Python (same input, same output)."""
    last = uri[uri.rfind("/") + 1 :]
    return INDEX if "." not in last else uri


# ---- error pages -----------------------------------------------------------------------------------
# Pages the SPA build ships at its root (frontend/public/): a missing file is a 404 with a small HTML
# page; an origin failure shows a friendly page with the original status code.
NOT_FOUND_PAGE = "/404.html"
SERVER_ERROR_PAGE = "/error.html"


@dataclass(frozen=True)
class ErrorResponse:
    """CloudFront custom error response: origin status -> page path, viewer status, error caching TTL."""

    status: int
    page: str
    response_status: int
    ttl_seconds: int


ERROR_RESPONSES: dict[int, ErrorResponse] = {
    404: ErrorResponse(404, NOT_FOUND_PAGE, 404, 60),
    **{code: ErrorResponse(code, SERVER_ERROR_PAGE, code, 10) for code in (500, 502, 503, 504)},
}

# ---- security headers (the response headers policy; override=True everywhere) -----------------------
HSTS_MAX_AGE_SECONDS = 730 * 24 * 3600  # 730 days, subdomains included
FRAME_OPTION = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def content_security_policy(connect_sources: Iterable[str] = ()) -> str:
    """The CSP; ``connect_sources`` are the origins the SPA may call besides itself (API, Cognito)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src " + " ".join(["'self'", *connect_sources]),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(connect_sources: Iterable[str] = ()) -> dict[str, str]:
    """The headers CloudFront adds to every response of the distribution (error pages included)."""
    return {
        "Content-Security-Policy": content_security_policy(connect_sources),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTION,
        "Referrer-Policy": REFERRER_POLICY,
        "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains",
        "X-XSS-Protection": "1; mode=block",
    }
