"""Step 2 of the request path: credentials in, a :class:`Principal` out.

Accepted and rejected tokens are cached under their SHA-256 fingerprint. A token's entry
lives ``cache_ttl`` at most and never past the token's own expiry; a rejection lives
``negative_cache_ttl``. Failures to decide (503) are never cached. Concurrent requests with
the same uncached token share one check (single flight): one provider call, one answer;
with Redis, so do concurrent requests in different processes (:mod:`.flight_redis`).
A cached entry checked before a change that concerns it (:mod:`.fences`) counts as a miss.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jiraguard.auth.cache import CacheEntry, MemoryPrincipalCache, PrincipalCache, Rejection
from jiraguard.auth.credentials import (
    BasicCredentials,
    BearerToken,
    Credentials,
    parse_authorization,
)
from jiraguard.auth.errors import InvalidToken, Unauthenticated
from jiraguard.auth.fences import Fences
from jiraguard.auth.flight_redis import RedisFlight
from jiraguard.auth.identity import IdentityMapper
from jiraguard.auth.jira_credentials import JiraCredentials
from jiraguard.auth.principal import Principal, fingerprint
from jiraguard.auth.router import ProviderRouter
from jiraguard.auth.validators.pat import PATValidator
from jiraguard.settings import AuthSettings
from jiraguard.store.users import UserDirectory, UserRecord

_hasher = PasswordHasher()


class Authenticator:
    """Turns credentials into principals through the cache, the providers and the directory."""

    def __init__(
        self,
        router: ProviderRouter,
        identity: IdentityMapper,
        cache: PrincipalCache,
        settings: AuthSettings,
        users: UserDirectory,
        clock: Callable[[], float] = time.time,
        pats: PATValidator | None = None,
        fences: Fences | None = None,
        flight: RedisFlight | None = None,
        jira: JiraCredentials | None = None,
    ) -> None:
        self.router = router
        self.jira = jira
        """Gateway mode with ``upstream.pass_jira_credentials``: Jira's own credentials are
        shown to Jira (tokens no provider accounts for, exempted Basic logins)."""
        self._basic_cache = MemoryPrincipalCache(min(settings.cache_size, 10_000))
        """Basic logins stay in this process: a shared cache (Redis) would expose an unsalted
        hash of user:password to anyone who can read it."""
        self.pats = pats
        """Personal access tokens; tokens with their prefix never reach a provider."""
        self.identity = identity
        self.cache = cache
        self.settings = settings
        self.users = users
        self.clock = clock
        self.fences = fences or Fences(settings.cache_ttl)
        self.flight = flight
        """Single flight across processes (with Redis)."""
        self._inflight: dict[str, _Flight] = {}
        """Checks under way, by token fingerprint: the first request's answer, for the others."""
        self._retired = False
        self._read: dict[bytes, BearerToken] = {}
        """Authorization header values read before → their token with its fingerprint."""
        self._plain: dict[bytes, BearerToken] = {}
        """Those of them whose sender has nothing to prove (:meth:`kept`)."""
        self._read_since = clock()

    def retire(self) -> None:
        """The configuration changed: checks still running here answer their requests but
        no longer fill the cache (their answer may not hold under the new configuration)."""
        self._retired = True

    async def authenticate(self, credentials: Credentials) -> Principal:
        if isinstance(credentials, BasicCredentials):
            return await self._basic(credentials)
        return await self.bearer(credentials)

    def read(self, values: list[bytes]) -> Credentials | None:
        """:func:`~jiraguard.auth.credentials.parse_authorization` of a request's
        ``Authorization`` header(s), the token's fingerprint included (but for personal
        access tokens: the store decides them every time); what :meth:`keep` kept, when the
        header is one of those."""
        if len(values) == 1:
            known = self._read.get(values[0])
            if known is not None:
                return known
        credentials = parse_authorization(values)
        if not isinstance(credentials, BearerToken) or (
            self.pats is not None and self.pats.recognises(credentials.token)
        ):
            return credentials
        token = credentials.token  # built anew: namedtuple's _replace takes twice as long
        return BearerToken(token, credentials.source, credentials.scheme, fingerprint(token))

    def keep(self, header: bytes, credentials: BearerToken, *, plain: bool) -> None:
        """Keep what :meth:`read` made of a bearer or DPoP header whose token was accepted.

        A client sends the same header request after request, and reading it (the syntax
        check, then SHA-256 over the token) was most of what a cached token cost; so the
        header of an accepted token is kept, up to ``_READ_KEPT`` of them for ``cache_ttl``
        at most (then all are dropped and read again), and is not read twice. A refused one
        is not: a flood of distinct bad tokens would fill the memory with headers that never
        come again. Personal access tokens are never kept (``read`` leaves their ``key``
        empty). ``plain``: the sender has nothing to prove for it
        (:meth:`~jiraguard.auth.sender.SenderConstraints.plain`, which holds for a token as
        long as this configuration does): :meth:`kept` answers for it."""
        if not credentials.key or header in self._read:
            return
        now = self.clock()
        if len(self._read) >= _READ_KEPT or now - self._read_since >= self.settings.cache_ttl:
            self._read.clear()
            self._plain.clear()
            self._read_since = now
        self._read[header] = credentials
        if plain:
            self._plain[header] = credentials

    def kept(self, values: list[bytes]) -> tuple[BearerToken, Principal] | None:
        """The token and principal of a lone ``Authorization`` header :meth:`keep` kept as
        plain, while this process's memory holds the token's principal: a client's every
        request after its first, decided without parsing, hashing, waiting or a binding to
        check. None: the full path decides (a header not kept, a token since refused,
        expired or fenced)."""
        if len(values) != 1:
            return None
        credentials = self._plain.get(values[0])
        if credentials is None:
            return None
        entry = self.cache.recent(credentials.key)
        if (
            entry is None
            or isinstance(entry, Rejection)
            or (self.fences.any and self.fences.stale(entry))
        ):
            return None
        return credentials, entry

    def remembered(self, credentials: BearerToken) -> Principal | None:
        """The principal of a token this process has the answer for in memory (raising the
        cached refusal), without waiting for anything; None: :meth:`bearer` must decide."""
        key = credentials.key  # a header read here before: never a personal access token
        if not key:
            if self.pats is not None and self.pats.recognises(credentials.token):
                return None
            key = fingerprint(credentials.token)
        entry = self.cache.recent(key)
        if entry is None or (self.fences.any and self.fences.stale(entry)):
            return None
        if isinstance(entry, Rejection):  # as _answer, on the path of every cached request
            raise InvalidToken(entry.description)
        return entry

    async def bearer(self, credentials: BearerToken) -> Principal:
        if self.pats is not None and self.pats.recognises(credentials.token):
            # Decided by the store on every request, never cached: revocation is immediate.
            return await self.pats.authenticate(credentials.token)
        key = credentials.key or fingerprint(credentials.token)
        entry = await self.cache.get(key)
        if entry is not None and not self.fences.stale(entry):
            return _answer(entry)
        flight = self._inflight.get(key)
        if flight is not None:  # another request is checking this token: its answer is ours
            try:
                # shield: a waiter that goes away must not cancel the others' answer.
                return await asyncio.shield(flight.joined())
            except _CheckAbandoned:
                return await self.bearer(credentials)  # the first one went away: ask again
        # The first request checks the token itself (no task, no extra turn of the loop);
        # those that come meanwhile wait for its answer.
        flight = self._inflight[key] = _Flight()
        try:
            principal = await self._check(key, credentials.token)
        except asyncio.CancelledError:
            flight.fail(_CheckAbandoned())
            raise
        except Exception as exc:
            flight.fail(exc)
            raise
        else:
            flight.answer(principal)
            return principal
        finally:
            del self._inflight[key]

    async def _check(self, key: str, token: str) -> Principal:
        if self.flight is None:
            return await self._validate(key, token)
        lock_id = await self.flight.acquire(key)
        if lock_id is None:  # another process is checking this token: wait for its answer
            entry = await self.flight.wait(key, self.cache, self._usable)
            if entry is not None:
                return _answer(entry)
            lock_id = ""
        try:
            if lock_id:
                # Another process may have checked it, put the answer and let go of the lock
                # between our cache miss and our taking the lock.
                entry = await self.cache.get(key)
                if entry is not None and self._usable(entry):
                    return _answer(entry)
            return await self._validate(key, token)
        finally:
            await self.flight.release(key, lock_id)

    def _usable(self, entry: CacheEntry) -> bool:
        return not self.fences.stale(entry)

    async def _validate(self, key: str, token: str) -> Principal:
        checked_at = self.clock()
        leeway = 0.0
        try:
            try:
                validated = await self.router.validate(token)
            except InvalidToken:
                # A token no provider accounts for may be Jira's own (a personal access token);
                # a JWT of a configured issuer is a provider token, and stays refused.
                if self.jira is None or self.router.routes_to_jwt(token):
                    raise
                found = await self.jira.principal(b"Bearer " + token.encode("utf-8"))
            else:
                found = await self.identity.principal(validated)
                leeway = validated.provider.leeway
            principal = replace(found, fingerprint=key[:16], checked_at=checked_at)
        except InvalidToken as exc:
            if not self._retired:
                rejection = Rejection(exc.description, checked_at, exc.username)
                await self.cache.put(key, rejection, self.settings.negative_cache_ttl)
            raise
        ttl = self.settings.cache_ttl
        left = remaining_lifetime(principal.expires_at, leeway, self.clock())
        if left is not None:
            ttl = min(ttl, left)
        if not self._retired:
            await self.cache.put(key, principal, ttl)
        return principal

    async def _basic(self, credentials: BasicCredentials) -> Principal:
        """Check a local user's password (whether Basic is allowed at all is policy's call)."""
        key = fingerprint("basic:" + credentials.raw)
        entry = await self._basic_cache.get(key)
        if isinstance(entry, Principal) and not self.fences.stale(entry):
            return entry
        if self.jira is not None:  # Jira's own login, exempted from Basic blocking: Jira decides
            try:
                found = await self.jira.principal(b"Basic " + credentials.raw.encode("latin-1"))
            except InvalidToken as exc:
                raise Unauthenticated("Jira does not accept this username and password") from exc
            principal = replace(found, checked_at=self.clock())
            await self._basic_cache.put(key, principal, self.settings.cache_ttl)
            return principal
        user = await self.users.get(credentials.username)
        if user is None or not user.active or not await verify_password(user, credentials.password):
            raise Unauthenticated("The username or password is wrong")
        principal = Principal.of(user, method="basic", checked_at=self.clock())
        await self._basic_cache.put(key, principal, self.settings.cache_ttl)
        return principal


_READ_KEPT = 4096
"""Most header values :meth:`Authenticator.read` keeps."""


class _Flight:
    """A check under way, and the future its waiters wait on, made only when one comes: most
    checks (a JWT whose keys are in hand, a forged token) end before anyone could join."""

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[Principal] | None = None

    def joined(self) -> asyncio.Future[Principal]:
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        return self._future

    def answer(self, principal: Principal) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_result(principal)

    def fail(self, error: BaseException) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_exception(error)
            future.exception()  # retrieved, even when every waiter went away


class _CheckAbandoned(Exception):
    """The request that was checking a token went away before the answer: who waited for it
    checks again."""


def remaining_lifetime(expires_at: float | None, leeway: float, now: float) -> float | None:
    """Seconds a validated token stays acceptable: until its expiry plus the provider's
    leeway, the allowance its validator applied (None: no expiry). InvalidToken once past.

    The request path and ``check-token`` (:mod:`.explain`) both decide with this.
    """
    if expires_at is None:
        return None
    left = expires_at + leeway - now
    if left <= 0:
        raise InvalidToken("The access token expired")
    return left


def _answer(entry: CacheEntry) -> Principal:
    """A cached decision as the caller gets it: the principal, or the rejection raised."""
    if isinstance(entry, Rejection):
        raise InvalidToken(entry.description)
    return entry


async def verify_password(user: UserRecord, password: str) -> bool:
    """Whether ``password`` is the user's (argon2, off the event loop); False without one."""
    if not user.password_hash:
        return False
    try:
        return await asyncio.to_thread(_hasher.verify, user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    """An argon2id hash for ``user add --password``."""
    return _hasher.hash(password)
