"""Shared fixtures: the real test OpenID provider, databases, and a jiraguard app to drive."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest

from jiraguard.app import create_app
from jiraguard.services import Services
from jiraguard.settings import Settings, validate_settings
from jiraguard.store.db import run_migrations
from jiraguard.store.users import UserRecord
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules
from tests.support.services import missing

if TYPE_CHECKING:
    from tests.support.logs import Captured

BASE_URL = "http://jira.test"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _start_idp(workdir: Path, **options: Any) -> TestProvider:
    if shutil.which("node") is None:
        missing("Node.js", "the test OpenID provider (npm oidc-provider) runs on Node")
    ensure_node_modules()
    provider = TestProvider(workdir=workdir, **options)
    provider.start()
    return provider


@pytest.fixture(scope="session")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestProvider]:
    """One real OpenID provider for the whole session (tests must not restart it)."""
    provider = _start_idp(tmp_path_factory.mktemp("idp"))
    yield provider
    provider.stop()


@pytest.fixture
def fresh_idp(tmp_path: Path) -> Iterator[Callable[..., TestProvider]]:
    """A factory of private providers, for tests that restart, rotate keys or stop them."""
    started: list[TestProvider] = []

    def start(**options: Any) -> TestProvider:
        provider = _start_idp(tmp_path, **options)
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()


def jwt_provider(idp: TestProvider, name: str = "corp", **extra: Any) -> dict[str, Any]:
    """Provider settings that validate the test provider's JWT access tokens locally."""
    return {
        "name": name,
        "method": "jwt",
        "issuer": idp.issuer,
        "audience": [RESOURCE],
        "leeway": 0,
        **extra,
    }


def introspection_provider(
    idp: TestProvider, name: str = "corp-opaque", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "method": "introspection",
        "issuer": idp.issuer,
        "client_id": "jiraguard",
        "client_secret": "jiraguard-secret",
        "leeway": 0,
        **extra,
    }


def userinfo_provider(
    idp: TestProvider, name: str = "corp-userinfo", **extra: Any
) -> dict[str, Any]:
    return {"name": name, "method": "userinfo", "issuer": idp.issuer, **extra}


@contextmanager
def postgres_database(*, migrate: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated unless told otherwise), dropped afterwards."""
    url = _postgres_url()
    try:
        if migrate:
            run_migrations(url)
        yield url
    finally:
        _drop_postgres(url)


def _postgres_url() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            name = f"jiraguard_test_{uuid.uuid4().hex[:12]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing("PostgreSQL", f"cannot connect to {PG_ADMIN_URL}: {exc}")
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: SQLite and PostgreSQL alike (one conformance run each)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jiraguard.db'}"
        run_migrations(url)
        yield url
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, for what only PostgreSQL has."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'jiraguard.db'}"
    run_migrations(url)
    return url


@dataclass
class Harness:
    """A jiraguard app on a real database, driven in-process over ASGI."""

    settings: Settings
    services: Services
    client: httpx.AsyncClient
    users: list[UserRecord] = field(default_factory=list)

    async def add_user(self, name: str, **options: Any) -> UserRecord:
        options.setdefault("email", f"{name}@example.com")
        user = await self.services.users.add(name, **options)
        self.users.append(user)
        return user


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def harness(sqlite_url: str) -> AsyncIterator[HarnessFactory]:
    """``await harness(providers=[...], auth={...})`` builds an app on a fresh SQLite database."""
    built: list[Harness] = []

    async def build(
        providers: list[dict[str, Any]] | None = None,
        *,
        url: str | None = None,
        **sections: dict[str, Any],
    ) -> Harness:
        settings = validate_settings(
            {
                "server": {"base_url": BASE_URL},
                "storage": {"url": url or sqlite_url},
                "providers": providers or [],
                **sections,
            }
        )
        services = Services.build(settings)
        app = create_app(settings, services)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        made = Harness(settings, services, client)
        built.append(made)
        return made

    yield build
    for made in built:
        await made.client.aclose()
        await made.services.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Every record the test's app logs, as ``jiraguard serve`` formats it, with the root
    logger at INFO (so request lines are written, and answers carry their request id)."""
    from tests.support.logs import capture_logs  # it imports this module

    with capture_logs() as logs:
        yield logs
