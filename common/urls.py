"""URLs as messages and logs may show them: without passwords, tokens or signatures."""

from __future__ import annotations

import re

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
