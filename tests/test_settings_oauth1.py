"""Settings for OAuth 1.0a: ``upstream.identity = "oauth1_impersonation"`` and ``[oauth1]``.

Keys are loaded when the configuration is read, errors name the key, and the private key is
never shown (``config show``, the admin export, reprs, validation errors).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from jiraguard.admin.ui.config_toml import export_toml
from jiraguard.auth.oauth1_verifier import OAuth1Verifier
from jiraguard.cli import app
from jiraguard.proxy.oauth1_signer import OAuth1Impersonation
from jiraguard.settings import ConfigError, load_settings, validate_settings
from tests.support.rsa_keys import KeyPair, new_key_pair


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return new_key_pair()


def upstream(**values: object) -> dict[str, object]:
    return {
        "upstream": {
            "url": "https://jira.example.com",
            "identity": "oauth1_impersonation",
            **values,
        }
    }


def problems(data: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_settings(data)
    return caught.value.problems


def test_defaults(keys: KeyPair) -> None:
    settings = validate_settings(upstream(consumer_key="gw", private_key=keys.private_pem))
    assert settings.upstream.requestor_parameter == "xoauth_requestor_id"
    assert settings.upstream.user_check_ttl == 300
    assert settings.upstream.private_key_pem() == keys.private_pem.encode()
    assert settings.oauth1.enabled is False
    assert settings.oauth1.max_age == 300
    assert settings.oauth1.consumers == []


def test_the_key_may_be_a_file(tmp_path: Path, keys: KeyPair) -> None:
    path = tmp_path / "gw.pem"
    path.write_text(keys.private_pem)
    settings = validate_settings(
        upstream(consumer_key="gw", private_key_file=str(path), requestor_parameter="user_id")
    )
    signer = OAuth1Impersonation.from_settings(settings.upstream)
    assert signer.requestor_parameter == "user_id"
    assert signer.consumer_key == "gw"


def test_the_key_may_come_from_the_environment(tmp_path: Path, keys: KeyPair) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[upstream]\nurl = "https://jira.example.com"\nidentity = "oauth1_impersonation"\n'
        'consumer_key = "gw"\n'
    )
    settings = load_settings(config, environ={"JIRAGUARD_UPSTREAM__PRIVATE_KEY": keys.private_pem})
    assert settings.upstream.private_key is not None
    assert settings.upstream.private_key.get_secret_value() == keys.private_pem


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"private_key": True}, "needs consumer_key"),
        ({"consumer_key": "gw"}, "exactly one of private_key_file and private_key"),
    ],
)
def test_oauth1_impersonation_needs_a_consumer_and_one_key(
    keys: KeyPair, values: dict[str, object], message: str
) -> None:
    if values.get("private_key") is True:
        values = {"private_key": keys.private_pem}
    found = problems(upstream(**values))
    assert any(message in p for p in found), found


def test_both_keys_are_refused(tmp_path: Path, keys: KeyPair) -> None:
    path = tmp_path / "gw.pem"
    path.write_text(keys.private_pem)
    found = problems(
        upstream(consumer_key="gw", private_key=keys.private_pem, private_key_file=str(path))
    )
    assert any("exactly one of" in p for p in found)


def test_a_bad_key_is_named_and_never_printed(keys: KeyPair) -> None:
    broken = keys.private_pem[:300] + "\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigError) as caught:
        validate_settings(upstream(consumer_key="gw", private_key=broken))
    assert caught.value.problems == [
        "upstream.private_key: not an unencrypted PEM private key "
        "(an unencrypted PEM RSA private key is needed)"
    ]
    material = keys.private_pem.splitlines()[1]
    assert material not in str(caught.value)
    assert material[:16] not in str(caught.value.__cause__)


def test_a_public_or_ec_or_encrypted_key_is_not_a_private_rsa_key(keys: KeyPair) -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    assert any(
        "not an RSA key" in p for p in problems(upstream(consumer_key="g", private_key=ec_pem))
    )
    assert problems(upstream(consumer_key="g", private_key=keys.public_pem))[0].startswith(
        "upstream.private_key:"
    )
    encrypted = (
        serialization.load_pem_private_key(keys.private_pem.encode(), None)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
        .decode()
    )
    assert any(
        "unencrypted" in p for p in problems(upstream(consumer_key="g", private_key=encrypted))
    )


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    found = problems(upstream(consumer_key="gw", private_key_file=str(tmp_path / "none.pem")))
    assert found[0].startswith("upstream.private_key_file: cannot read ")


def test_the_private_key_is_never_shown(tmp_path: Path, keys: KeyPair) -> None:
    """``config show`` masks it, the admin export leaves ``upstream`` out, reprs hide it."""
    config = tmp_path / "c.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n'
        '[upstream]\nurl = "https://jira.example.com"\nidentity = "oauth1_impersonation"\n'
        'consumer_key = "gw"\n'
    )
    env = {"JIRAGUARD_UPSTREAM__PRIVATE_KEY": keys.private_pem}
    result = CliRunner().invoke(app, ["config", "show", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    material = keys.private_pem.splitlines()[1]
    assert material not in result.output
    assert json.loads(result.stdout)["upstream"]["private_key"] == "**********"
    settings = load_settings(config, environ=env)
    assert material not in export_toml(settings)
    assert material not in repr(settings) + str(settings)


def consumer(keys: KeyPair, **values: object) -> dict[str, object]:
    return {"consumer_key": "gw", "name": "Gateway", "public_key": keys.public_pem, **values}


def test_consumers_build_a_verifier(tmp_path: Path, keys: KeyPair) -> None:
    path = tmp_path / "other.pem"
    path.write_text(keys.public_pem)
    settings = validate_settings(
        {
            "oauth1": {
                "enabled": True,
                "max_age": 120,
                "consumers": [
                    consumer(keys),
                    {"consumer_key": "k2", "name": "Two", "public_key_file": str(path)},
                ],
            }
        }
    )
    first, second = settings.oauth1.consumers
    assert second.name == "Two"
    assert (first.allow_two_legged, first.allow_impersonation) == (True, False)
    verifier = OAuth1Verifier.from_settings(settings.oauth1)
    assert sorted(verifier.consumers) == ["gw", "k2"]
    assert verifier.max_age == 120


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"public_key": None}, "exactly one of public_key and public_key_file"),
        ({"public_key": "not a key"}, "oauth1.consumers[0].public_key: not a PEM public key"),
        ({"public_key_file": "/nonexistent.pem"}, "public_key_file: cannot read /nonexistent.pem"),
        ({"consumer_key": ""}, "oauth1.consumers[0].consumer_key"),
    ],
)
def test_bad_consumers_are_refused(keys: KeyPair, entry: dict[str, object], message: str) -> None:
    values = {k: v for k, v in consumer(keys, **entry).items() if v is not None}
    found = problems({"oauth1": {"consumers": [values]}})
    assert any(message in p for p in found), found


def test_a_private_key_is_not_a_consumer_public_key(keys: KeyPair) -> None:
    found = problems({"oauth1": {"consumers": [consumer(keys, public_key=keys.private_pem)]}})
    assert found[0].startswith("oauth1.consumers[0].public_key:")
    assert keys.private_pem.splitlines()[1] not in " ".join(found)


def test_consumer_keys_are_unique_and_enabled_needs_one(keys: KeyPair) -> None:
    found = problems({"oauth1": {"consumers": [consumer(keys), consumer(keys, name="B")]}})
    assert found == ["oauth1: consumer keys must be unique: gw"]
    found = problems({"oauth1": {"enabled": True}})
    assert found == ["oauth1: oauth1 needs at least one consumer when enabled"]
