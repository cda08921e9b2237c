"""Routes of the embedded Jira REST API v2, one module per resource."""
