"""URLs as messages and logs may show them: without passwords, tokens or signatures."""

from __future__ import annotations

import re

from common.errors import RenderError

#: Shown in place of a secret.
HIDDEN = "***"

#: Query parameters that carry credentials: Redis (password), SQL-style URLs (pwd, passwd),
#: object stores (Azure SAS sig, S3 presigned X-Amz-Signature / X-Amz-Credential, tokens).
SECRET_PARAMETERS = (
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "ssl_password",
)

# scheme://user:password@host: the password runs to the LAST "@" after which a host (name,
# IPv4, [IPv6], optional port) and the end or a path, query or fragment follow. A password may
# hold "@", "/", "?" or "#" when people paste one unencoded, so the earliest "@" is not the end
# of it; where this is ambiguous (an "@" in a path or query), more is hidden, never less.
_USERINFO = re.compile(
    r"(?P<lead>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)"
    r"(?P<password>.*)"
    r"@(?P<host>[^@/?#\s]*(?:[/?#]|$))",
    re.DOTALL,
)
_QUERY = re.compile(
    r"(?P<lead>[?&;](?:" + "|".join(re.escape(p) for p in SECRET_PARAMETERS) + r")=)[^&;#]*",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """The URL with passwords and credential query parameters hidden: ``redis://:***@host/0``."""
    # The greedy .* makes the password end at the last "@" that a host follows.
    hidden = _USERINFO.sub(lambda m: f"{m['lead']}{HIDDEN}@{m['host']}", url, count=1)
    return _QUERY.sub(lambda m: f"{m['lead']}{HIDDEN}", hidden)


def check_redis_url(url: str) -> None:
    """Raise InvalidURL (one line, the URL redacted) for a Redis URL that redis-py
    cannot connect with: a scheme it does not know, a port that is not a number, a query value
    of the wrong type (``?socket_timeout=abc``); redis-py's own ValueError is a traceback."""
    from redis.connection import parse_url

    try:
        parse_url(url)
    except ValueError as exc:
        raise InvalidURL(f"broker URL {redact_url(url)}: {_scrubbed(str(exc), url)}") from None


def _scrubbed(reason: str, url: str) -> str:
    """``reason`` with each quoted value that is part of the URL's user information hidden: a
    password with an unencoded "/" is parsed as the port, and the error quotes it."""
    rest = url.split("://", 1)[-1]
    userinfo = rest.rsplit("@", 1)[0] if "@" in rest else ""

    def hide(match: re.Match[str]) -> str:
        quoted = match.group(1)
        return f"'{HIDDEN}'" if quoted and quoted in userinfo else match.group(0)

    return _QUOTED.sub(hide, reason)


_QUOTED = re.compile(r"'([^']*)'")


class InvalidURL(RenderError):
    """A URL that cannot be used as given (its message shows it redacted)."""
