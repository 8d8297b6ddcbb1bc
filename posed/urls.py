"""Mask the credentials in URLs wherever posed prints one: `check`, logs, errors.

Cameras carry their credentials in the URL, as user-info (`rtsp://admin:secret@cam/`)
or in the query (`http://cam/video.cgi?user=admin&password=secret`). Only the
secret part is replaced; the user name, the host and every character around the
secret stay, so the message still says which camera it is about.
"""

from __future__ import annotations

import re

MASK = "***"
# Query parameters whose value is a secret. Matched as whole names only: `keepalive=` or
# `monkey=` stay as they are.
SECRET_PARAMETERS = ("password", "passwd", "pass", "pwd", "token", "key", "auth", "secret")

# scheme://user:password@ — the password may hold ':' but not '/', '@', '?' or '#' (RFC 3986).
_USER_INFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@?#]*:)[^\s/@?#]+(@)", re.IGNORECASE)
# ?password=... or &token=...: the value ends where the URL's next parameter, fragment or the
# surrounding text begins, so the character after the secret is kept. ')' may be part of a
# password; it ends the value only where the text goes on after it, as in "(http://...?key=v)."
_QUERY = re.compile(
    r"([?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)(?:[^&;#\s'\"<>)]|\)(?![\s.,;:]|$))+",
    re.IGNORECASE,
)


def mask_url_credentials(text: str) -> str:
    """`text` with the password in every URL's user-info and secret query parameters masked."""
    text = _USER_INFO.sub(rf"\g<1>{MASK}\g<2>", text)
    return _QUERY.sub(rf"\g<1>{MASK}", text)
