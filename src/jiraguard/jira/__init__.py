"""The embedded Jira-compatible REST API v2."""
