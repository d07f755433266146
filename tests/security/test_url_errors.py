"""A broker URL that redis-py cannot use is one line with the URL redacted (security2 finding 8:
``?socket_timeout=abc`` gave a traceback, and the argparse usage error echoed the password)."""

from __future__ import annotations

import pytest

from common.urls import InvalidURL, check_redis_url, redact_url


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            "redis://client:SECRETY@127.0.0.1:16399/0?socket_timeout=abc",
            "broker URL redis://client:***@127.0.0.1:16399/0?socket_timeout=abc: "
            "Invalid value for 'socket_timeout' in connection URL.",
        ),
        ("http://client:SECRETY@h/0", "broker URL http://client:***@h/0: Redis URL must specify"),
        # An unencoded "/" in a password: redis-py reads the start of it as the port, and quotes it
        ("redis://client:SEC/RETY@h/0", "Port could not be cast to integer value as '***'"),
    ],
)
def test_a_url_redis_cannot_use_is_one_line_without_its_password(url: str, said: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        check_redis_url(url)
    message = str(caught.value)
    assert said in message and "SEC" not in message and "\n" not in message


def test_a_usable_url_passes() -> None:
    check_redis_url("rediss://worker:pw@redis:6380/0?ssl_ca_certs=/ca.crt&socket_timeout=5")
    check_redis_url("unix:///run/redis.sock?db=1")


def test_an_argparse_message_quoting_a_broker_url_is_redacted() -> None:
    # What cli/main.py's _Parser.error gets for `cloudrender cluster --broker URL`
    message = (
        "argument action: invalid choice: 'redis://client:SECRETZ@h:1/0' "
        "(choose from 'status', 'pools', 'scale')"
    )
    assert "SECRETZ" not in redact_url(message)
    assert "'redis://client:***@h:1/0'" in redact_url(message)
