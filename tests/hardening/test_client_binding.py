"""A token a userinfo endpoint accepts proves who the user is, not which application it was
issued to: with client_binding, a token of the user issued to another application is refused
(Google tokeninfo, GitHub's token check for an OAuth app, GitLab token info)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from jiraguard.presets import expand_preset
from jiraguard.settings import ProviderSettings
from tests.conftest import HarnessFactory, bearer

pytestmark = pytest.mark.anyio

TOKENS = {"tok-jira": "jira-app", "tok-other": "other-app"}
"""Access tokens of alice, by the OAuth client each was issued to."""
APP_SECRET = "app-secret"


class _Provider(BaseHTTPRequestHandler):
    """Google's, GitHub's and GitLab's answers, enough to bind a token to its client."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
        raw = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _bearer(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ")

    def do_GET(self) -> None:
        token = self._bearer()
        if self.path == "/user":
            if token in TOKENS:
                self._answer(200, {"login": "alice", "email": "alice@example.com"})
            else:
                self._answer(401)
        elif self.path == "/oauth/token/info":  # GitLab
            if token in TOKENS:
                self._answer(200, {"application": {"uid": TOKENS[token]}, "scope": ["api"]})
            else:
                self._answer(401)
        else:
            self._answer(404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/tokeninfo":  # Google
            token = parse_qs(body.decode()).get("access_token", [""])[0]
            if token in TOKENS:
                self._answer(200, {"azp": TOKENS[token], "aud": TOKENS[token]})
            else:
                self._answer(400, {"error": "invalid_token"})
        elif self.path.startswith("/applications/") and self.path.endswith("/token"):  # GitHub
            client = self.path.split("/")[2]
            expected = "Basic " + base64.b64encode(f"{client}:{APP_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._answer(401)
                return
            token = json.loads(body).get("access_token")
            self._answer(200 if TOKENS.get(token) == client else 404, {"token": "x"})
        else:
            self._answer(404)


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _bindings(url: str) -> list[dict[str, Any]]:
    common = {"method": "userinfo", "userinfo_endpoint": f"{url}/user"}
    return [
        {
            **common,
            "name": "google",
            "client_binding": "google_tokeninfo",
            "token_info_endpoint": f"{url}/tokeninfo",
            "allowed_client_ids": ["jira-app"],
            "username_attribute": ["login"],
        },
        {
            **common,
            "name": "github",
            "client_binding": "github_token_check",
            "token_info_endpoint": f"{url}/applications/jira-app/token",
            "client_id": "jira-app",
            "client_secret": APP_SECRET,
            "username_attribute": ["login"],
        },
        {
            **common,
            "name": "gitlab",
            "client_binding": "gitlab_token_info",
            "token_info_endpoint": f"{url}/oauth/token/info",
            "client_id": "jira-app",
            "username_attribute": ["login"],
        },
    ]


@pytest.mark.parametrize("kind", ["google", "github", "gitlab"])
async def test_a_token_issued_to_another_application_is_refused(
    harness: HarnessFactory, provider_url: str, kind: str
) -> None:
    [provider] = [p for p in _bindings(provider_url) if p["name"] == kind]
    h = await harness([provider])
    await h.add_user("alice")
    mine = await h.client.get("/rest/api/2/myself", headers=bearer("tok-jira"))
    assert mine.status_code == 200, mine.text
    other = await h.client.get("/rest/api/2/myself", headers=bearer("tok-other"))
    assert other.status_code == 401
    assert "client that is not allowed" in other.headers["www-authenticate"]
    unknown = await h.client.get("/rest/api/2/myself", headers=bearer("tok-nobody"))
    assert unknown.status_code == 401


async def test_without_binding_any_application_token_is_accepted(
    harness: HarnessFactory, provider_url: str
) -> None:
    """The flaw the binding closes, kept visible: what the config check warns about."""
    settings = {"name": "plain", "method": "userinfo", "userinfo_endpoint": f"{provider_url}/user"}
    h = await harness([{**settings, "username_attribute": ["login"]}])
    await h.add_user("alice")
    other = await h.client.get("/rest/api/2/myself", headers=bearer("tok-other"))
    assert other.status_code == 200
    assert ProviderSettings(**settings).warnings


GHE = {"preset": "github", "base_url": "https://ghe.example.com", "client_id": "Iv1"}
GHE["client_secret"] = "s"


@pytest.mark.parametrize(
    ("data", "binding", "endpoint"),
    [
        ({"preset": "google"}, "none", None),
        ({"preset": "google", "client_id": "x"}, "google_tokeninfo", "https://oauth2.googleapis.com/tokeninfo"),
        ({"preset": "gitlab", "allowed_client_ids": ["x"]}, "gitlab_token_info", "https://gitlab.com/oauth/token/info"),
        ({"preset": "github", "client_id": "Iv1", "client_secret": "s"}, "github_token_check", "https://api.github.com/applications/Iv1/token"),
        (GHE, "github_token_check", "https://ghe.example.com/api/v3/applications/Iv1/token"),
        ({"preset": "github", "client_id": "Iv1"}, "none", None),
    ],
)  # fmt: skip
def test_the_presets_bind_tokens_when_the_client_is_configured(
    data: dict[str, Any], binding: str, endpoint: str | None
) -> None:
    provider = ProviderSettings(name="p", **data)
    assert provider.client_binding == binding
    assert provider.token_info_endpoint == endpoint
    assert bool(provider.warnings) == (binding == "none")
    assert expand_preset(data).get("client_binding", "none") == binding


def test_a_binding_without_its_client_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="client_binding needs allowed_client_ids"):
        ProviderSettings(
            name="p",
            method="userinfo",
            userinfo_endpoint="https://x/user",
            client_binding="gitlab_token_info",
            token_info_endpoint="https://x/oauth/token/info",
        )
