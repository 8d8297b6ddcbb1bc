"""Who may see the page, and the headers every response carries.

The page shows live camera images, so every request is checked, the WebSocket
stream included:
- with a token: `Authorization: Bearer TOKEN`, or the cookie a `?token=TOKEN` login
  sets (browsers cannot put a header on a WebSocket or on a link someone opens);
- always: a request that names another origin (a page on some website opening our
  WebSocket, which browsers allow across origins) is refused;
- without a token (loopback only, the config enforces it): the Host header must be a
  loopback name too, or a website could reach the page through DNS rebinding.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from posed.preview.config import is_loopback

COOKIE = "posed_preview"
TOKEN_PARAM = "token"

# Everything is same-origin and nothing runs inline; frames are drawn from blob: URLs; the
# timeline plays stored clips (media-src).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Frames and stats are live; a cached copy would claim a state that has passed.
    "Cache-Control": "no-store",
}


def _host_name(authority: str) -> str:
    """`host` from `host:port`, `[v6]:port` or a bare host."""
    return urlsplit(f"//{authority}").hostname or ""


def _refuse(status: type[web.HTTPException], text: str, **headers: str) -> web.HTTPException:
    return status(text=text + "\n", headers=headers)


def unauthorized() -> web.HTTPException:
    return _refuse(
        web.HTTPUnauthorized,
        "401: this page needs its token: open it once as /?token=TOKEN, "
        "or send the header Authorization: Bearer TOKEN",
        **{"WWW-Authenticate": 'Bearer realm="posed preview"'},
    )


def make_guard(token: str | None) -> Middleware:
    """The middleware enforcing the rules above."""
    expected = None if token is None else token.encode()

    def matches(candidate: str | None) -> bool:
        return (
            expected is not None
            and candidate is not None
            and hmac.compare_digest(candidate.encode(), expected)
        )

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise _refuse(web.HTTPForbidden, "403: cross-origin requests are refused")
        if expected is None:
            if not is_loopback(_host_name(request.host)):
                raise _refuse(web.HTTPForbidden, "403: without a token the page answers loopback names only")
            return await handler(request)
        if TOKEN_PARAM in request.query:
            if not matches(request.query[TOKEN_PARAM]):
                raise unauthorized()
            # The login: remember the token in a cookie, and drop it from the address bar.
            query = {k: v for k, v in request.query.items() if k != TOKEN_PARAM}
            # One leading slash: `//host/...` would send the browser to another site.
            target = request.rel_url.with_query(query)
            redirect = web.HTTPFound("/" + str(target).lstrip("/"))
            redirect.set_cookie(
                COOKIE, request.query[TOKEN_PARAM], httponly=True, samesite="Strict", path="/"
            )
            raise redirect
        bearer = request.headers.get("Authorization", "")
        supplied = bearer[7:] if bearer[:7].lower() == "bearer " else None
        if not (matches(supplied) or matches(request.cookies.get(COOKIE))):
            raise unauthorized()
        return await handler(request)

    return guard


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: runs for every response, WebSocket upgrades and errors included."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
