"""Settings from the environment: the values issue 13 added and the ones it refuses."""

from __future__ import annotations

import os

import pytest

from common.errors import RenderError
from common.settings import Settings


def test_a_visibility_timeout_that_would_disable_the_time_limits_is_refused() -> None:
    with pytest.raises(RenderError, match="CLOUDRENDER_VISIBILITY_TIMEOUT=0 must be at least 60"):
        Settings.from_env({"CLOUDRENDER_VISIBILITY_TIMEOUT": "0"})
    assert Settings.from_env({"CLOUDRENDER_VISIBILITY_TIMEOUT": "60"}).visibility_timeout == 60


def test_message_signing_needs_all_three_settings() -> None:
    with pytest.raises(RenderError, match="message signing needs all of"):
        Settings.from_env({"CLOUDRENDER_SECURITY_KEY": "/k.pem"})
    signed = Settings.from_env(
        {
            "CLOUDRENDER_SECURITY_KEY": "/k.pem",
            "CLOUDRENDER_SECURITY_CERTIFICATE": "/c.pem",
            "CLOUDRENDER_SECURITY_CERT_STORE": "/certs",
        }
    )
    assert (signed.security_key, signed.security_cert_store) == ("/k.pem", "/certs")
    assert "/k.pem" not in repr(signed)  # the key's path stays out of logs


def test_roots_are_absolute_directories_from_a_path_list() -> None:
    env = {"CLOUDRENDER_MEDIA_ROOTS": f"/srv/media{os.pathsep}{os.pathsep}~/clips"}
    settings = Settings.from_env(env)
    assert settings.media_roots == ("/srv/media", os.path.expanduser("~/clips"))
    assert settings.output_roots == ()


def test_defaults_are_safe() -> None:
    settings = Settings.from_env({})
    assert settings.metrics_addr == "127.0.0.1"  # the exporter is not published by default
    assert settings.sandbox == "auto"
    assert settings.max_frame_bytes == 2 * 2**30
    with pytest.raises(RenderError, match="CLOUDRENDER_SANDBOX='jail' must be one of"):
        Settings.from_env({"CLOUDRENDER_SANDBOX": "jail"})
