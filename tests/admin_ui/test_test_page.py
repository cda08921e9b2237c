"""The test configuration page on a refused token: the decoded claims anyway (never the
token), the mismatching claim beside the configured value, and only plausible user names
offered as the username attribute, the one that finds a Jira user marked. Real tokens from
the real test provider, a real database."""

from __future__ import annotations

import re

import httpx
import pytest

from jiraguard.admin.ui.claims import mismatches, plausible_username
from jiraguard.settings import ProviderSettings
from tests.admin_ui.support import admin_options, csrf_of, login
from tests.conftest import Harness, HarnessFactory, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio


async def _admin(harness: HarnessFactory, provider: dict[str, object]) -> httpx.AsyncClient:
    made: Harness = await harness(providers=[provider])
    await made.add_user("root", **admin_options())
    await made.add_user("alice@example.com")  # the directory knows alice by her e-mail address
    assert (await login(made.client, "root")).status_code == 303
    return made.client


async def _test(client: httpx.AsyncClient, token: str) -> str:
    csrf = csrf_of((await client.get("/admin/test")).text)
    response = await client.post("/admin/test", data={"_csrf": csrf, "token": token})
    assert response.status_code == 200
    assert token not in response.text
    return response.text


def _row(html: str, path: str) -> str:
    found = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\"><code>{re.escape(path)}</code>.*?</tr>", html, re.S
    )
    assert found is not None, f"no row for {path}"
    return found.group(0)


async def test_a_wrong_audience_shows_the_claims_with_aud_beside_the_configured_one(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    client = await _admin(harness, jwt_provider(idp, audience=["api://not-this-one"]))
    html = await _test(client, idp.jwt_token("alice"))
    assert 'data-testid="outcome">rejected<' in html
    assert "Claims, decoded but not verified (the token was refused)" in html
    aud = _row(html, "aud")
    assert 'class="mismatch"' in aud
    assert "corp expects api://not-this-one" in aud
    assert 'class="mismatch"' not in _row(html, "sub")
    assert "1 claim differs from the configuration: aud" in html
    # Nothing is offered to click for a token that was refused.
    assert "as the username attribute" not in html


async def test_a_wrong_issuer_shows_the_tokens_iss_beside_the_configured_issuers(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    provider = jwt_provider(idp, issuer=idp.issuer + "/", jwks_uri=idp.jwks_uri)
    client = await _admin(harness, provider)
    html = await _test(client, idp.jwt_token("alice"))
    iss = _row(html, "iss")
    assert 'class="mismatch"' in iss
    assert f"configured issuers: corp: {idp.issuer}/" in iss


async def test_only_plausible_usernames_are_offered_and_the_jira_user_is_marked(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    client = await _admin(harness, jwt_provider(idp))  # username: preferred_username
    html = await _test(client, idp.jwt_token("alice"))
    assert "No Jira user is named alice" in html
    email = _row(html, "email")
    assert 'class="match"' in email
    assert "finds the Jira user <strong>alice@example.com</strong>" in email
    assert html.count('data-testid="jira-match"') == 1
    assert 'aria-label="Use email as the username attribute"' in html
    assert 'aria-label="Use preferred_username as the username attribute"' in html
    for claim in ("iss", "aud", "jti", "client_id", "scope", "exp"):
        assert f'aria-label="Use {claim} as the username attribute"' not in html, claim


@pytest.mark.parametrize(
    ("path", "value", "plausible"),
    [
        ("preferred_username", "alice", True),
        ("email", "alice@example.com", True),
        ("upn", "ALICE@contoso.onmicrosoft.com", True),
        ("realm_access.username", "a.liddell", True),
        ("sub", "248289761001", False),  # a numeric subject id
        ("oid", "00000000-0000-0000-66f3-3332eca7ea81", False),
        ("sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", False),  # an opaque pairwise id
        ("iss", "https://login.example.com/tenant/v2.0", False),
        ("aud", "urn:jira", False),
        ("name", "Alice Liddell", False),
        ("client_id", "jira-cli", False),
        ("jti", "x1", False),
        ("exp", 1700000000, False),
        ("groups", ["a", "b"], False),
        ("nickname", "", False),
        ("nickname", "a\u202eb", False),
        ("nickname", "x" * 200, False),
    ],
)
def test_what_counts_as_a_plausible_username(path: str, value: object, plausible: bool) -> None:
    assert plausible_username(path, value) is plausible


def test_an_expired_token_has_its_exp_highlighted_with_the_leeway() -> None:
    provider = ProviderSettings(
        name="corp", method="jwt", issuer="https://idp", audience=["jira"], leeway=30
    )
    report = {"outcome": "rejected", "attempts": [{"provider": "corp", "outcome": "rejected"}]}
    found = mismatches(report, {"exp": 1000}, [provider], now=1100)
    assert found == {"exp": "expired at 1970-01-01 00:16:40 UTC, 100 s ago (leeway 30 s)"}
    assert mismatches(report, {"exp": 1000}, [provider], now=1020) == {}
    assert mismatches({**report, "outcome": "accepted"}, {"exp": 1}, [provider], now=9) == {}
