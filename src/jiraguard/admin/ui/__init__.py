"""The admin web UI at ``/admin``: server-rendered pages behind a login session.

Pages: status, providers, test configuration, access rules, tokens, audit log. Only members
of ``admin.groups`` (or users with the ``admin`` flag) get in; every form carries a CSRF
token; pages send a strict Content-Security-Policy and are never cached.
"""
