"""The configuration contract: one validated object, every error at once, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from jiraguard.settings import ConfigError, load_settings, validate_settings

KEYCLOAK = {
    "name": "kc",
    "preset": "keycloak",
    "base_url": "https://sso.example.com/",
    "realm": "corp",
    "audience": ["jira"],
}


def test_defaults_are_embedded_sqlite() -> None:
    settings = load_settings(None, environ={})
    assert settings.storage.url == "sqlite:///jiraguard.db"
    assert settings.server.public_url == "http://127.0.0.1:8080"
    assert settings.auth.block_basic is True
    assert settings.auth.allow_query_token is False


def test_every_problem_is_reported_at_once_with_its_path(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        """
[server]
port = 0
colour = "blue"
[auth]
cache_ttl = -1
[[providers]]
name = "a"
method = "jwt"
issuer = "https://a"
[[providers]]
name = "b"
method = "introspection"
introspection_endpoint = "https://b/introspect"
"""
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    problems = caught.value.problems
    assert "server.port: Input should be greater than or equal to 1" in problems
    assert "server.colour: unknown key" in problems
    assert any(p.startswith("auth.cache_ttl:") for p in problems)
    assert any(p.startswith("providers[a]:") and "audience" in p for p in problems)
    assert any(p.startswith("providers[b]:") and "client_id" in p for p in problems)
    assert len(problems) == 5


def test_environment_overrides_sections_and_providers_by_name(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[server]\nport = 8080\n[[providers]]\nname = "Corp"\nmethod = "introspection"\n'
        'introspection_endpoint = "https://corp/i"\nclient_id = "jg"\n'
    )
    settings = load_settings(
        config,
        environ={
            "JIRAGUARD_SERVER__PORT": "9090",
            "JIRAGUARD_AUTH__BLOCK_BASIC": "false",
            "JIRAGUARD_PROVIDERS__CORP__CLIENT_SECRET": "from-env",
            "JIRAGUARD_PROVIDERS__CORP__USERNAME_ATTRIBUTE": '["upn", "email"]',
        },
    )
    assert settings.server.port == 9090
    assert settings.auth.block_basic is False
    secret = settings.providers[0].client_secret
    assert secret is not None
    assert secret.get_secret_value() == "from-env"
    assert settings.providers[0].username_attribute == ["upn", "email"]


def test_config_path_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[server]\nport = 7000\n")
    assert load_settings(environ={"JIRAGUARD_CONFIG": str(config)}).server.port == 7000


def test_unreadable_and_invalid_toml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})


@pytest.mark.parametrize(
    ("provider", "problem"),
    [
        ({"algorithms": ["none"]}, "algorithms"),
        ({"algorithms": ["HS256"]}, "HS256 needs hmac_secret"),
        ({"algorithms": ["HS256", "RS256"], "hmac_secret": "s"}, "cannot be mixed"),
        ({"hmac_secret": "s"}, "no HS* algorithm"),
        ({"audience": []}, "audience"),
        ({"verify_audience": False}, "allowed_client_ids"),
    ],
)
def test_jwt_pins_are_validated(provider: dict[str, object], problem: str) -> None:
    base = {"name": "p", "method": "jwt", "issuer": "https://i", "audience": ["a"]}
    with pytest.raises(ConfigError) as caught:
        validate_settings({"providers": [{**base, **provider}]})
    assert problem in "\n".join(caught.value.problems)


def test_duplicate_names_and_issuers_are_refused() -> None:
    p = {"method": "jwt", "issuer": "https://i", "audience": ["a"]}
    with pytest.raises(ConfigError, match="unique"):
        validate_settings({"providers": [{"name": "x", **p}, {"name": "X", **p}]})
    with pytest.raises(ConfigError, match="share the issuer"):
        validate_settings({"providers": [{"name": "x", **p}, {"name": "y", **p}]})


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        (
            {"preset": "azure", "tenant": "contoso.onmicrosoft.com", "audience": ["api://jira"]},
            {
                # Tokens carry the tenant id: the domain's discovery document tells it.
                "issuer": None,
                "issuer_discovery": [
                    "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
                ],
                "jwks_uri": "https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys",
                "username_attribute": ["preferred_username", "upn", "unique_name"],
            },
        ),
        (
            KEYCLOAK,
            {
                "issuer": "https://sso.example.com/realms/corp",
                "jwks_uri": "https://sso.example.com/realms/corp/protocol/openid-connect/certs",
                "introspection_endpoint": "https://sso.example.com/realms/corp/protocol/openid-connect/token/introspect",
            },
        ),
        (
            {"preset": "okta", "domain": "acme.okta.com"},
            {"issuer": "https://acme.okta.com/oauth2/default", "audience": ["api://default"]},
        ),
        (
            {"preset": "google"},
            {
                "method": "userinfo",
                "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
                "username_attribute": ["email"],
            },
        ),
        (
            {
                "preset": "cognito",
                "region": "eu-west-1",
                "user_pool_id": "eu-west-1_AbC",
                "allowed_client_ids": ["app"],
            },
            {
                "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
                "verify_audience": False,
            },
        ),
        (
            {"preset": "github"},
            {"userinfo_endpoint": "https://api.github.com/user", "username_attribute": ["login"]},
        ),
        (
            {"preset": "github", "base_url": "https://github.corp"},
            {"userinfo_endpoint": "https://github.corp/api/v3/user"},
        ),
        (
            {"preset": "gitlab"},
            {
                "userinfo_endpoint": "https://gitlab.com/api/v4/user",
                "username_attribute": ["username"],
            },
        ),
        (
            {"preset": "miniorange"},
            {"userinfo_endpoint": "https://login.xecurify.com/moas/rest/oauth/getuserinfo"},
        ),
    ],
)
def test_presets_fill_endpoints(preset: dict[str, object], expected: dict[str, object]) -> None:
    settings = validate_settings({"providers": [{"name": "p", **preset}]})
    provider = settings.providers[0].model_dump()
    assert {k: provider[k] for k in expected} == expected


def test_preset_values_can_be_overridden() -> None:
    settings = validate_settings(
        {
            "providers": [
                {
                    **KEYCLOAK,
                    "method": "introspection",
                    "client_id": "c",
                    "client_secret": "s",
                    "username_attribute": "email",
                }
            ]
        }
    )
    assert settings.providers[0].method == "introspection"
    assert settings.providers[0].username_attribute == ["email"]


def test_preset_parameters_are_required() -> None:
    with pytest.raises(ConfigError, match="preset 'keycloak' needs base_url"):
        validate_settings({"providers": [{"name": "k", "preset": "keycloak", "realm": "r"}]})


def test_only_section_variables_are_configuration() -> None:
    """Other JIRAGUARD_* variables (the config path, the test flag) are not keys."""
    settings = load_settings(
        None,
        environ={"JIRAGUARD_TEST_REQUIRE_SERVICES": "1", "JIRAGUARD_SERVER__PORT": "9000"},
    )
    assert settings.server.port == 9000
    with pytest.raises(ConfigError, match=r"server\.nope: unknown key"):
        load_settings(None, environ={"JIRAGUARD_SERVER__NOPE": "1"})
