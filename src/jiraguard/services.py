"""The long-lived parts one process shares, built once from the settings and closed on shutdown.

One HTTP client for all providers, one database engine, one cache, the change feed; and the
current :class:`~jiraguard.auth.request_path.RequestPath`, replaced as a whole when the
configuration changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from jiraguard.auth.audit import DecisionLog
from jiraguard.auth.audit_sink import StoreAuditSink
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.cache import MemoryPrincipalCache, PrincipalCache
from jiraguard.auth.cache_redis import RedisPrincipalCache, TieredPrincipalCache, cache_mac_key
from jiraguard.auth.clientip import ClientAddress
from jiraguard.auth.dpop import DPoPNonces, DPoPVerifier
from jiraguard.auth.fences import Fences
from jiraguard.auth.flight_redis import RedisFlight
from jiraguard.auth.identity import IdentityMapper, unreachable_admin
from jiraguard.auth.jira_credentials import JiraCredentials
from jiraguard.auth.oauth1_login import OAuth1Login
from jiraguard.auth.oauth1_verifier import OAuth1Verifier
from jiraguard.auth.pat import PersonalAccessTokens
from jiraguard.auth.policy import Policy
from jiraguard.auth.provider_http import ProviderClients
from jiraguard.auth.ratelimit import MemoryRateLimiter, RateLimiter
from jiraguard.auth.ratelimit_redis import RedisRateLimiter
from jiraguard.auth.replay import MemoryReplayCache, RedisReplayCache, ReplayCache
from jiraguard.auth.request_path import RequestPath
from jiraguard.auth.router import ProviderRouter
from jiraguard.auth.sender import SenderConstraints
from jiraguard.auth.signed_identity import SignedIdentity
from jiraguard.auth.validators.pat import PATValidator
from jiraguard.changes import CONFIG, CUSTOM_FIELDS, USER, ChangeEvent, ChangeFeed, wake
from jiraguard.config_store import ConfigStore, settings_data
from jiraguard.proxy import UpstreamPool, make_upstream_pool
from jiraguard.redis_client import RedisOutage, make_redis
from jiraguard.sampling import Sampler, read_sample
from jiraguard.settings import ConfigError, Settings
from jiraguard.store.custom_fields import FieldDefinitions
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory
from jiraguard.telemetry import ProviderCalls, Telemetry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfigSource:
    """Where the configuration came from: the file's data (before the environment), the
    environment, and the file's path for ``SIGHUP`` (see :mod:`jiraguard.config_store`)."""

    file_data: Mapping[str, Any]
    environ: Mapping[str, str]
    path: Path | None = None


@dataclass
class Services:
    """The long-lived parts one process shares.

    :attr:`path` holds the settings and the parts made from their managed sections (router,
    authenticator, policy) as one immutable snapshot; :meth:`reconfigure` replaces it in one
    assignment when the configuration changes. Readers take the snapshot (or one of the
    properties below) when they need it and never keep their own copy.
    """

    path: RequestPath
    """The current configuration's request path (settings, router, authenticator, policy)."""
    http: httpx.AsyncClient
    """The client trusting the system's CA certificates (see ``provider_clients``)."""
    db: Database
    users: UserDirectory
    cache: PrincipalCache
    pats: PATValidator
    tokens: PersonalAccessTokens
    audit: StoreAuditSink | None
    """The audit log's writer; None when ``audit.enabled`` is false."""
    config: ConfigStore
    """The configuration's sources; ``config.save`` is how the admin UI changes it."""
    changes: ChangeFeed
    """The change feed this process follows (configuration saved, users changed)."""
    fences: Fences
    limiter: RateLimiter
    upstream: UpstreamPool | None = None
    """Gateway mode: the connection pool to the upstream Jira (None in embedded mode)."""
    redis: Redis | None = None
    """The shared Redis client when ``redis.url`` is set (cache and rate limits)."""
    redis_outage: RedisOutage | None = None
    """Failed Redis calls, shared by the cache and the rate limiter."""
    flight: RedisFlight | None = None
    """Single flight across processes (with Redis)."""
    replay: ReplayCache | None = None
    """DPoP proof ids seen (shared through Redis when configured)."""
    provider_calls: ProviderCalls | None = None
    """Requests sent to providers, for ``/metrics``."""
    provider_clients: ProviderClients | None = None
    """The clients provider calls go through, one per CA bundle (``http`` is the default
    one); None when built by hand."""
    telemetry: Telemetry = field(default_factory=Telemetry)
    """Latencies and errors off the hot path, for ``/metrics``."""
    custom_fields: FieldDefinitions = field(default_factory=FieldDefinitions)
    """This process's copy of the custom field definitions (forgotten on ``CUSTOM_FIELDS``)."""
    sampler: Sampler | None = None
    """This process's cache and provider counters over the last hour (the status page)."""
    reloads: int = 0
    """Configurations applied since start, the first one included (for tests and metrics)."""
    _signals: list[int] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """The settings in force (file < admin UI < environment, as last applied)."""
        return self.path.settings

    @property
    def router(self) -> ProviderRouter:
        return self.path.router

    @property
    def authenticator(self) -> Authenticator:
        return self.path.authenticator

    @property
    def policy(self) -> Policy:
        return self.path.policy

    @property
    def decisions(self) -> DecisionLog:
        return self.path.decisions

    @property
    def client_address(self) -> ClientAddress:
        return self.path.client_address

    @property
    def signed_identity(self) -> SignedIdentity | None:
        return self.path.signed_identity

    @classmethod
    def build(cls, settings: Settings, source: ConfigSource | None = None) -> Services:
        """``source``: where ``settings`` came from; without it (settings made in code) the
        settings themselves stand in for the file and the environment is not read."""
        telemetry = Telemetry()
        provider_calls = ProviderCalls()

        def watched(client: httpx.AsyncClient) -> None:
            telemetry.watch(client)
            provider_calls.watch(client)

        clients = ProviderClients(settings.auth.provider_timeout, on_new=watched)
        http = clients.default
        db = Database(
            settings.storage.url,
            pool_size=settings.storage.pool_size,
            prepared_statements=settings.storage.prepared_statements,
        )
        users = UserDirectory(db)
        cache: PrincipalCache = MemoryPrincipalCache(settings.auth.cache_size)
        limiter: RateLimiter = MemoryRateLimiter()
        redis, outage, flight = None, None, None
        replay: ReplayCache = MemoryReplayCache(settings.auth.dpop_replay_cache_size)
        if settings.redis.url:
            redis = make_redis(settings.redis.url, settings.redis.socket_timeout)
            outage = RedisOutage()
            prefix = settings.redis.key_prefix
            shared = RedisPrincipalCache(
                redis, prefix, outage=outage, mac_key=cache_mac_key(settings)
            )
            shared.use_namespace(_principal_inputs(settings)[1])
            cache = TieredPrincipalCache(MemoryPrincipalCache(settings.auth.cache_size), shared)
            limiter = RedisRateLimiter(redis, prefix, outage=outage)
            flight = RedisFlight(
                redis, prefix, hold=settings.auth.provider_timeout + 1.0, outage=outage
            )
            replay = RedisReplayCache(
                redis, prefix, MemoryReplayCache(settings.auth.dpop_replay_cache_size), outage
            )
        if source is None:
            source = ConfigSource(settings_data(settings), {})
        config = ConfigStore(db, source.file_data, source.environ, path=source.path)
        audit = StoreAuditSink(db, settings.audit) if settings.audit.enabled else None
        pats = PATValidator(db, settings.tokens)
        fences = Fences(settings.auth.cache_ttl)
        upstream = (
            make_upstream_pool(settings.upstream, telemetry) if settings.upstream.url else None
        )
        router, authenticator, policy = _request_path(
            settings, clients, users, cache, limiter, pats, fences, flight, telemetry, upstream
        )
        services = cls(
            RequestPath(
                settings,
                router,
                authenticator,
                policy,
                DecisionLog(
                    audit,
                    record_allowed=settings.audit.record_allowed,
                    # The request line names the refusal and its reason: said once.
                    refusal_level=logging.DEBUG if settings.logging.requests else logging.INFO,
                ),
                ClientAddress(settings.server.trusted_proxies),
                _sender(settings, replay),
                (
                    SignedIdentity(settings.signed_identity, users)
                    if settings.signed_identity.enabled
                    else None
                ),
                (
                    OAuth1Login(OAuth1Verifier.from_settings(settings.oauth1), users)
                    if settings.oauth1.enabled
                    else None
                ),
            ),
            http,
            db,
            users,
            cache,
            pats=pats,
            tokens=PersonalAccessTokens(db, settings.tokens, audit=settings.audit.enabled),
            audit=audit,
            config=config,
            changes=ChangeFeed(
                db,
                lambda events: services.apply_changes(events),
                poll_interval=settings.server.changes_poll_interval,
                redis=redis,
                prefix=settings.redis.key_prefix,
                outage=outage,
            ),
            fences=fences,
            limiter=limiter,
            upstream=upstream,
            redis=redis,
            redis_outage=outage,
            flight=flight,
            replay=replay,
            provider_calls=provider_calls,
            provider_clients=clients,
            telemetry=telemetry,
        )
        config.after_save = services.announce
        services.sampler = Sampler(lambda at: read_sample(cache, telemetry, at))
        return services

    async def start(self, *, reload_on_sighup: bool = False) -> None:
        """Start the background work (audit writer, change feed) and apply what the admin UI
        saved; called from the app's lifespan, before the first request."""
        if self.audit is not None:
            self.audit.start()
        await self.reload()
        await self.changes.start()
        if self.sampler is not None:
            self.sampler.start()
        if reload_on_sighup:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reread()))
            self._signals.append(signal.SIGHUP)

    def reconfigure(self, settings: Settings) -> None:
        """Replace the parts made from the managed sections (providers, auth, rules, rate
        limits) in one step.

        When what decides a token's principal changed (providers, auth), this process's
        memory is emptied and the shared cache moves to the new configuration's namespace
        (see ``PrincipalCache.reconfigured``): a process that starts with the configuration
        others run shares their entries, one with another never reads them. Checks still in flight
        under the old configuration answer their requests but cache nothing."""
        old = self.path
        router, authenticator, policy = _request_path(
            settings,
            self.provider_clients or self.http,
            self.users,
            self.cache,
            self.limiter,
            self.pats,
            self.fences,
            self.flight,
            self.telemetry,
            self.upstream,
            previous=old.router,
        )
        inputs = _principal_inputs(settings)
        if inputs != _principal_inputs(old.settings):
            old.authenticator.retire()
            self.cache.reconfigured(inputs[1])
        # One assignment: a request that took the old snapshot finishes under it.
        self.path = replace(
            old,
            settings=settings,
            router=router,
            authenticator=authenticator,
            policy=policy,
            sender=_sender(settings, old.sender.verifier.replay),
        )
        self.reloads += 1

    async def reload(self) -> bool:
        """Compose the configuration from its sources and apply it; False (the old one kept,
        the problems logged) when it is not valid."""
        try:
            settings = await self.config.current()
        except ConfigError as exc:
            log.error("configuration not applied, the previous one stays: %s", exc)
            return False
        self.reconfigure(settings)
        return True

    async def reread(self) -> None:
        """``SIGHUP``: read the file again and apply it."""
        try:
            self.config.reread_file()
        except ConfigError as exc:
            log.error("configuration file not reloaded: %s", exc)
            return
        if await self.reload():
            log.info("configuration reloaded (SIGHUP)")

    async def announce(self) -> None:
        """A change was committed here: wake the other processes and apply it in this one."""
        await wake(self.redis, self.settings.redis.key_prefix, self.redis_outage)
        await self.changes.catch_up()

    async def apply_changes(self, events: Sequence[ChangeEvent]) -> None:
        """The change feed's callback: fence the users named, reload for a configuration,
        read the custom field definitions again when one was added."""
        config = False
        for event in events:
            if event.kind == USER and event.subject:
                self.fences.user(event.subject, max(event.at, time.time()))
            elif event.kind == CONFIG:
                config = True
            elif event.kind == CUSTOM_FIELDS:
                self.custom_fields.forget()
        if config:
            await self.reload()

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        await self.changes.stop()
        if self.sampler is not None:
            await self.sampler.stop()
        await self.pats.aclose()
        self.path.decisions.repeats.close()  # the refusals counted since their line, said
        if self.audit is not None:
            await self.audit.stop()  # writes what is still queued, while the database is open
        if self.provider_clients is not None:
            await self.provider_clients.aclose()  # http among them
        else:
            await self.http.aclose()
        if self.upstream is not None:
            await self.upstream.aclose()
        await self.db.close()
        if self.redis is not None:
            await self.redis.aclose()


def _principal_inputs(settings: Settings) -> tuple[str, str]:
    """What decides the principal a token maps to (providers and auth settings), and its
    digest: a change to it makes earlier decisions stale; rules and rate limits are applied
    per request and do not."""
    inputs = settings.model_dump_json(include={"providers", "auth"})
    return inputs, hashlib.sha256(inputs.encode()).hexdigest()[:12]


def _sender(settings: Settings, replay: ReplayCache) -> SenderConstraints:
    """The binding checks of ``settings`` (DPoP proofs, client certificates)."""
    auth = settings.auth
    nonces = DPoPNonces(cache_mac_key(settings)) if auth.dpop_nonce else None
    verifier = DPoPVerifier(
        auth.dpop_algorithms, auth.dpop_max_age, auth.dpop_leeway, replay, nonces
    )
    return SenderConstraints(settings, verifier, ClientAddress(settings.server.trusted_proxies))


def _request_path(
    settings: Settings,
    http: httpx.AsyncClient | ProviderClients,
    users: UserDirectory,
    cache: PrincipalCache,
    limiter: RateLimiter,
    pats: PATValidator,
    fences: Fences,
    flight: RedisFlight | None,
    telemetry: Telemetry,
    upstream: UpstreamPool | None,
    *,
    previous: ProviderRouter | None = None,
) -> tuple[ProviderRouter, Authenticator, Policy]:
    """The parts of the request path made from the managed sections of ``settings``."""
    router = ProviderRouter.from_settings(
        settings.providers, settings.auth, http, previous=previous, telemetry=telemetry
    )
    identity = IdentityMapper(
        users,
        create_users=settings.auth.create_users,
        directory_optional=(
            (bool(settings.upstream.url) or settings.forward_auth.enabled)
            and not settings.upstream.require_local_user
        ),
        unreachable=unreachable_admin(settings),
    )
    jira = None
    if upstream is not None and settings.upstream.url and settings.upstream.pass_jira_credentials:
        jira = JiraCredentials(upstream, settings.upstream.url, settings.auth.provider_timeout)
    authenticator = Authenticator(
        router,
        identity,
        cache,
        settings.auth,
        users,
        pats=pats,
        fences=fences,
        flight=flight,
        jira=jira,
    )
    policy = Policy(settings.auth, settings.rules, settings.rate_limits, limiter)
    return router, authenticator, policy
