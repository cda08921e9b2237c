"""The ``[redis]`` and ``[metrics]`` sections: defaults, validation, secrets kept secret."""

from __future__ import annotations

import pytest

from jiraguard.settings import ConfigError, validate_settings


def test_defaults_mean_no_redis_and_loopback_metrics() -> None:
    settings = validate_settings({})
    assert settings.redis.url is None
    assert settings.redis.key_prefix == "jiraguard:"
    assert settings.redis.socket_timeout == 0.5
    assert settings.metrics.enabled
    assert settings.metrics.path == "/metrics"
    assert settings.metrics.token is None


def test_bad_values_are_all_reported() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_settings(
            {
                "redis": {"url": "http://redis:6379", "socket_timeout": 0, "db": 1},
                "metrics": {"path": "metrics"},
            }
        )
    text = "\n".join(raised.value.problems)
    assert "redis.url: must start with redis://" in text
    assert "redis.socket_timeout" in text
    assert "redis.db: unknown key" in text
    assert "metrics.path" in text


def test_metrics_token_is_not_printed() -> None:
    settings = validate_settings({"metrics": {"token": "scrape-secret"}})
    assert "scrape-secret" not in repr(settings)
