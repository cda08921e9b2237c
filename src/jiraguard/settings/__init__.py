"""The one settings object: a TOML file, overridden by environment variables, validated once.

Every key can be overridden by an environment variable ``JIRAGUARD_<SECTION>__<KEY>``, for
example ``JIRAGUARD_SERVER__PORT=9090``. Provider entries are addressed by name or index:
``JIRAGUARD_PROVIDERS__CORP__CLIENT_SECRET=...`` sets ``client_secret`` of the provider named
``corp``. Values are read as JSON when they parse as JSON (numbers, booleans, lists), else
as plain strings. Unknown keys are rejected with their path, and all errors are reported at
once (:class:`ConfigError`).
"""

from jiraguard.settings.common import (
    HMAC_ALGORITHMS,
    Algorithm,
    HttpMethod,
    Method,
    Network,
    Seconds,
    parse_rate,
    safe_url,
)
from jiraguard.settings.loading import (
    ENV_CONFIG_PATH,
    ENV_PREFIX,
    ConfigError,
    apply_environment,
    config_path,
    environment_entries,
    environment_paths,
    load_settings,
    provider_key,
    read_config_file,
    validate_settings,
)
from jiraguard.settings.providers import ProviderSettings
from jiraguard.settings.sections import (
    AdminSettings,
    AuditSettings,
    AuthSettings,
    BasicExceptions,
    ForwardAuthSettings,
    MetricsSettings,
    OAuth1ConsumerSettings,
    OAuth1Settings,
    RateLimits,
    RedisSettings,
    Rule,
    ServerSettings,
    Settings,
    SignedIdentitySettings,
    StorageSettings,
    TokenSettings,
    UpstreamSettings,
)

__all__ = [
    "ENV_CONFIG_PATH",
    "ENV_PREFIX",
    "HMAC_ALGORITHMS",
    "AdminSettings",
    "Algorithm",
    "AuditSettings",
    "AuthSettings",
    "BasicExceptions",
    "ConfigError",
    "ForwardAuthSettings",
    "HttpMethod",
    "Method",
    "MetricsSettings",
    "Network",
    "OAuth1ConsumerSettings",
    "OAuth1Settings",
    "ProviderSettings",
    "RateLimits",
    "RedisSettings",
    "Rule",
    "Seconds",
    "ServerSettings",
    "Settings",
    "SignedIdentitySettings",
    "StorageSettings",
    "TokenSettings",
    "UpstreamSettings",
    "apply_environment",
    "config_path",
    "environment_entries",
    "environment_paths",
    "load_settings",
    "parse_rate",
    "provider_key",
    "read_config_file",
    "safe_url",
    "validate_settings",
]
