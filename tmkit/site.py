"""The frontend distribution's behaviour as data: hidden paths, SPA routing, security headers, error pages.

One place for what CloudFront does in front of the SPA bucket. The CDK construct
(infra/components/frontend_hosting.py) builds the CloudFront Function, response headers policy and
error responses from it, and ``inv local.serve`` (tmkit/localserve.py) applies the same rules when it
serves the bucket from the emulator. Pure data and functions: no AWS, no CDK imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

# ---- routing ---------------------------------------------------------------------------------------
INDEX = "/index.html"  # the app shell (also CloudFront's default root object)

# Viewer-request function:
# 1. Release records are never served: a path with a segment ``_releases`` (where tmkit/publish.py keeps
#    each release's manifest, the publish history and rollback copies) answers 404 from the function,
#    before the cache and the bucket. The path is percent-decoded first (S3 decodes it too, so
#    ``/%5Freleases/state.json`` is the same key); a path that does not decode is a 404 as well.
# 2. SPA routing: a path whose last segment has no "." is a client-side route and gets the app shell;
#    anything that looks like a file goes to S3 unchanged, so a missing asset is a real 404 (never
#    index.html served as JavaScript). Limitation: a route segment containing a dot (e.g.
#    /users/jane.doe) is treated as a file.
# ``viewer_request`` below is the same function in Python (same input, same output); docs/frontend.md.
HIDDEN_SEGMENT = "_releases"
SPA_ROUTING_JS = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var path;
  try {
    path = decodeURIComponent(uri);
  } catch (e) {
    return { statusCode: 404, statusDescription: 'Not Found' };
  }
  if (('/' + path + '/').indexOf('/_releases/') !== -1) {
    return { statusCode: 404, statusDescription: 'Not Found' };
  }
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def spa_rewrite(uri: str) -> str:
    """The URI the origin is asked for (rule 2 of ``SPA_ROUTING_JS``)."""
    last = uri[uri.rfind("/") + 1 :]
    return INDEX if "." not in last else uri


def is_hidden(uri: str) -> bool:
    """Rule 1 of ``SPA_ROUTING_JS``: True when the function answers 404 for this (percent-encoded) URI."""
    if _MALFORMED_ESCAPE.search(uri):
        return True  # decodeURIComponent throws
    try:
        path = unquote(uri, errors="strict")
    except UnicodeDecodeError:
        return True
    return f"/{HIDDEN_SEGMENT}/" in f"/{path}/"


def viewer_request(uri: str) -> str | None:
    """``SPA_ROUTING_JS`` in Python: the URI the origin is asked for, or None for the function's 404."""
    return None if is_hidden(uri) else spa_rewrite(uri)


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
