"""The address a request came from, for per-client limits on public pages.

Behind the deployment's own reverse proxy (``HOTLINE_TRUST_FORWARDED_FOR=true``)
every request arrives from the proxy, so the client is the rightmost
``X-Forwarded-For`` entry: the one that proxy appended. Entries to its left were
written by the client and prove nothing.
"""

from __future__ import annotations

from aiohttp import web

from hotline import appkeys


def client_address(request: web.Request, trust_forwarded_for: bool | None = None) -> str:
    """``trust_forwarded_for`` None follows the application's ``HOTLINE_TRUST_FORWARDED_FOR``."""
    if trust_forwarded_for is None:
        settings = request.app.get(appkeys.SETTINGS)
        trust_forwarded_for = bool(settings and settings.trust_forwarded_for)
    if trust_forwarded_for:
        hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
        if hops[-1]:
            return hops[-1][:100]
    return request.remote or "unknown"
