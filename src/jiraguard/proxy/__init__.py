"""Gateway mode: a streaming reverse proxy in front of an existing Jira (never imports jira)."""

from jiraguard.proxy.forward import (
    OriginalTargetMiddleware,
    UpstreamPool,
    UpstreamProxy,
    make_upstream_pool,
)
from jiraguard.proxy.identity_headers import IdentityHeaders

__all__ = [
    "IdentityHeaders",
    "OriginalTargetMiddleware",
    "UpstreamPool",
    "UpstreamProxy",
    "make_upstream_pool",
]
