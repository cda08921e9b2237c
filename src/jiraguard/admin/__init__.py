"""jiraguard's own REST APIs: personal access tokens (``/rest/pat/latest``) and the audit log
(``/rest/jiraguard/1``). Both run behind the authentication middleware like the Jira API."""
