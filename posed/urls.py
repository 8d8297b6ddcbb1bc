"""Mask credentials wherever posed prints text: `check`, `run`, `estimate`, logs, errors.

This is the one place that knows what a credential looks like in text; config issues
(posed.errors.ConfigIssue), quoted config values (posed.config.messages.show), the
daemon's log formatter and the CLI's error printer all call `mask_credentials`.

The forms, each replaced by `***` with everything around it kept, so the message still
says which camera or server it is about:

- a URL's user-info, `rtsp://admin:secret@cam/`: the password runs to the LAST `@` of
  the authority, so `admin:hun@ter2@cam` hides `hun@ter2`, and a `/` in it is taken in
  too. Also after `scheme:/` (a URL that went through pathlib, which folds `//` into `/`);
- user-info with no scheme, `user:secret@host` (e.g. written as an MQTT host);
- secret query parameters, `?password=...`, `&access_token=...`, `&api_key=...`;
- `password=...`, `token: ...` and the like outside URLs (a library's own messages).
"""

from __future__ import annotations

import re

MASK = "***"
# Query parameters and key=value names whose value is a secret: these names whole, or
# ending in them after `_` or `-` (access_token, api_key, x-api-key). `keepalive=`
# or `monkey=` stay as they are.
SECRET_PARAMETERS = (
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "key",
    "apikey",
    "auth",
    "secret",
    "signature",
    "sig",
    "credential",
    "credentials",
    "jwt",
)
_SECRET_NAME = r"(?:[A-Za-z0-9]+[_-])*(?:" + "|".join(SECRET_PARAMETERS) + r")"

# scheme:// (or scheme:/ once pathlib folded it) and the authority: user-info@host:port.
# The authority ends at the path, query, fragment or the surrounding text.
_URL_AUTHORITY = re.compile(r"(\b[a-z][a-z0-9+.-]*:/{1,2})([^\s/?#'\"<>]*@[^\s/?#'\"<>]*)", re.IGNORECASE)
# A password holding `/` ends the authority early (`rtsp://admin:pa/ss@cam/`); when an `@`
# follows in the same word, everything from the first `:` to that `@` is taken as the password.
_SLASHED_PASSWORD = re.compile(
    r"(\b[a-z][a-z0-9+.-]*:/{1,2}[^\s/?#:@'\"<>]*:)([^\s?#'\"<>]*/[^\s?#'\"<>]*)(@[^\s/?#@'\"<>]+)",
    re.IGNORECASE,
)
# user:password@host with no scheme; the user starts a word, the host follows the last `@`.
_BARE_USER_INFO = re.compile(
    r"(?<![\w.%+/:@-])([\w.%+-]+:)([^\s/'\"<>]*[^\s/'\"<>:])(@[\w\[][\w.:\[\]%-]*)", re.IGNORECASE
)
# ?password=... or &token=...: the value ends where the URL's next parameter, fragment or the
# surrounding text begins, so the character after the secret is kept. ')' and ':' may be part
# of a password; they end the value only where the text goes on after them, as in
# "(http://...?key=v)." or "http://...?key=v: refused".
_QUERY = re.compile(
    r"([?&;]" + _SECRET_NAME + r"=)(?:[^&;#\s'\"<>):]|[):](?![\s.,;:]|$))+",
    re.IGNORECASE,
)
# key=value / key: value outside URLs. The name starts a word (a dotted config key such as
# `preview.token: ...` in an error message is a key, not a value), and the value ends at the
# first character that cannot be part of it, which is kept.
# Outside URLs only names that say "secret" on their own: a bare `key=value` is ordinary text.
_KEY_VALUE = re.compile(
    r"""((?<![\w.-])(?:[A-Za-z0-9]+[_-])*(?:password|passwd|secret|token|api[_-]?key)["']?\s*[:=]\s*["']?)"""
    r"""(?!\*\*\*)[^\s"',;&)}\]<>]+""",
    re.IGNORECASE,
)


def _authority(match: re.Match[str]) -> str:
    scheme, authority = match.group(1), match.group(2)
    user_info, _, host = authority.rpartition("@")
    user, colon, _password = user_info.partition(":")
    if not colon:
        return match.group(0)  # `rtsp://admin@cam`: a user name alone, no secret
    return f"{scheme}{user}:{MASK}@{host}"


def mask_credentials(text: str) -> str:
    """`text` with every credential posed can recognise replaced by `***`."""
    text = _SLASHED_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)
    text = _URL_AUTHORITY.sub(_authority, text)
    text = _BARE_USER_INFO.sub(rf"\g<1>{MASK}\g<3>", text)
    text = _QUERY.sub(rf"\g<1>{MASK}", text)
    return _KEY_VALUE.sub(rf"\g<1>{MASK}", text)


mask_url_credentials = mask_credentials  # the name earlier callers use
