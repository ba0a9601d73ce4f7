"""Rate limits on the public, unauthenticated endpoints (Flask-Limiter).

Counted per client address: in Redis when a broker is configured, so that every web process
counts together, and in memory otherwise. A refused request gets 429 with ``Retry-After``
and the tool's error page or JSON. When Redis does not answer, the count falls back to
memory for a while rather than refuse or fail the request.

The limits are attached here, by endpoint, to the app's own limiter: a module-level
``Limiter`` would keep the storage and settings of the last app built in a process.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response
from flask_babel import ngettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_badges.web.errors import error_response

# Endpoint -> the setting holding its limit (DESIGN's URL contract: /api/v1/verify, the
# /verify form, /lti/login, /lti/register).
LIMITS = {
    "verify.api": "RATE_LIMIT_VERIFY_API",
    "verify.submit": "RATE_LIMIT_VERIFY_PAGE",
    "lti.login": "RATE_LIMIT_LOGIN",
    "lti.register": "RATE_LIMIT_REGISTER",
}
KEY_PREFIX = "lti_badges_rl"  # beside Celery's keys in the broker's database


def storage_uri(config: dict) -> str:
    broker = str(config.get("BROKER_URL") or "")
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def init_app(app: Flask) -> Limiter:
    """Call after the blueprints are registered (the limits wrap their views)."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:  # behind a reverse proxy every request would come from the proxy's address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
    limiter = Limiter(key_func=get_remote_address, storage_uri=storage_uri(app.config),
                      key_prefix=KEY_PREFIX, headers_enabled=False,
                      in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.init_app(app)
    for endpoint, setting in LIMITS.items():
        value = str(app.config.get(setting) or "").strip()
        if value and endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(value)(app.view_functions[endpoint])
    app.extensions["lti_badges.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
        resp = error_response(ngettext(
            "Too many requests from your address. Wait %(num)d second and try again.",
            "Too many requests from your address. Wait %(num)d seconds and try again.", wait),
            429, "rate_limited")
        resp.headers["Retry-After"] = str(wait)
        return resp

    return limiter
