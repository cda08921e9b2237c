"""jiraguard: authenticate Jira's REST API with access tokens from any OAuth 2.0 / OIDC provider."""

__version__ = "0.1.0"
