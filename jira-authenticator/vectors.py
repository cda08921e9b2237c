"""Test vectors for the Java Seraph authenticator, signed by jiraguard's own Python signer.

Usage: ``python jira-authenticator/vectors.py OUTPUT`` (with ``src`` importable).

Every signature comes from :func:`jiraguard.auth.signed_identity.sign`, the function the
gateway signs with, and every vector is also run through the Python verifier
(:class:`jiraguard.auth.signed_identity.SignedIdentity`): the script fails when the Python
side disagrees with a vector's expected outcome. The Java tests then hold the Java side to
the same outcomes, so the two implementations cannot drift apart unnoticed.

The output is a Java properties file (``\\uXXXX`` escapes, so it is plain ASCII). Header
values are written as the servlet container hands them to Jira: each byte of the header
one ISO-8859-1 character (a UTF-8 ``zoë`` arrives as ``zoÃ«``).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.signed_identity import SignedIdentity, sign
from jiraguard.settings import SignedIdentitySettings
from jiraguard.store.users import UserRecord

SECRET = "vector-shared-secret-6d1f0c2a9b8e"
OTHER_SECRET = "some-other-secret-00000000000000"
NOW = 1_764_331_200
MAX_AGE = 60
USER, TIMESTAMP, SIGNATURE = "X-Forwarded-User", "X-Jiraguard-Timestamp", "X-Jiraguard-Signature"
MYSELF = "/jira/rest/api/2/myself"
SEARCH = "/jira/rest/api/2/search?jql=project%3DABC&maxResults=10"


def wire(text: str) -> str:
    """``text`` as a servlet container hands a UTF-8 header value over: one char per byte."""
    return text.encode("utf-8").decode("latin-1")


@dataclass
class Vector:
    name: str
    expect: str
    """``ok:<username>``, or the Java refusal (``ABSENT``, ``MISSING_OR_REPEATED``,
    ``MALFORMED``, ``BAD_SIGNATURE``, ``EXPIRED``)."""
    method: str = "GET"
    target: str = MYSELF
    headers: list[tuple[str, str]] = field(default_factory=list)


def signed(
    name: str,
    expect: str,
    *,
    user: str = "alice",
    method: str = "GET",
    target: str = MYSELF,
    timestamp: str = str(NOW),
    secret: str = SECRET,
    signed_user: str | None = None,
    signed_method: str | None = None,
    signed_target: str | None = None,
    signed_timestamp: str | None = None,
    user_header: str | None = None,
    signature: str | None = None,
    transform=None,
) -> Vector:
    """A request whose headers the gateway signed (then possibly tampered with)."""
    sig = sign(
        secret,
        signed_user if signed_user is not None else user,
        signed_method or method,
        signed_target or target,
        signed_timestamp or timestamp,
    )
    if signature is not None:
        sig = signature
    headers = [
        (USER, user_header if user_header is not None else wire(user)),
        (TIMESTAMP, timestamp),
        (SIGNATURE, sig),
    ]
    if transform:
        headers = transform(headers)
    return Vector(name, expect, method, target, headers)


def repeat(header: str):
    def transform(headers):
        return headers + [h for h in headers if h[0] == header]

    return transform


def drop(*names: str):
    def transform(headers):
        return [h for h in headers if h[0] not in names]

    return transform


def lower_names(headers):
    return [(n.lower(), v) for n, v in headers]


def vectors() -> list[Vector]:
    old, future = str(NOW - MAX_AGE), str(NOW + MAX_AGE)
    return [
        signed("valid", "ok:alice"),
        signed("valid-query", "ok:alice", target=SEARCH),
        signed("valid-post", "ok:bob", user="bob", method="POST", target="/jira/rest/api/2/issue"),
        signed("valid-root-context", "ok:alice", target="/rest/api/2/myself"),
        signed("valid-percent-encoded", "ok:alice", target="/jira/rest/api/2/user?username=zo%C3%AB"),
        signed("valid-utf8-zoe", "ok:zoë", user="zoë"),
        signed("valid-utf8-cjk", "ok:山田太郎", user="山田太郎"),
        signed("valid-utf8-emoji", "ok:dev🚀ops", user="dev🚀ops"),
        signed("valid-oldest", "ok:alice", timestamp=old),
        signed("valid-newest", "ok:alice", timestamp=future),
        signed("valid-upper-case-hex", "ok:alice", transform=lambda h: [
            (n, v.upper() if n == SIGNATURE else v) for n, v in h]),
        signed("valid-signature-padded", "ok:alice", transform=lambda h: [
            (n, f" {v}\t" if n == SIGNATURE else v) for n, v in h]),
        signed("valid-lower-case-names", "ok:alice", transform=lower_names),
        signed("stale", "EXPIRED", timestamp=str(NOW - MAX_AGE - 1)),
        signed("future", "EXPIRED", timestamp=str(NOW + MAX_AGE + 1)),
        signed("ancient", "EXPIRED", timestamp="0"),
        signed("tampered-user", "BAD_SIGNATURE", user="admin", signed_user="alice"),
        signed("tampered-user-case", "BAD_SIGNATURE", user="Alice", signed_user="alice"),
        signed("tampered-target", "BAD_SIGNATURE", target="/jira/rest/api/2/user", signed_target=MYSELF),
        signed("tampered-query", "BAD_SIGNATURE", target=SEARCH.replace("ABC", "XYZ"), signed_target=SEARCH),
        signed("query-dropped-from-signature", "BAD_SIGNATURE", target=SEARCH,
               signed_target=SEARCH.split("?")[0]),
        signed("tampered-method", "BAD_SIGNATURE", method="DELETE", signed_method="GET"),
        signed("lower-case-method", "BAD_SIGNATURE", method="GET", signed_method="get"),
        signed("tampered-timestamp", "BAD_SIGNATURE", timestamp=str(NOW - 1), signed_timestamp=str(NOW)),
        signed("wrong-secret", "BAD_SIGNATURE", secret=OTHER_SECRET),
        signed("signature-truncated", "BAD_SIGNATURE", transform=lambda h: [
            (n, v[:-2] if n == SIGNATURE else v) for n, v in h]),
        signed("signature-not-hex", "BAD_SIGNATURE", signature="not-a-signature"),
        signed("signature-empty", "BAD_SIGNATURE", signature=""),
        signed("signature-not-ascii", "MALFORMED", signature=wire("é") * 32),
        # the user header sent as ISO-8859-1 bytes ("zo\xeb"), not UTF-8: not a valid name
        signed("user-not-utf8", "MALFORMED", user="zoë", user_header="zoë"),
        signed("user-empty", "MALFORMED", user=""),
        signed("timestamp-not-digits", "MALFORMED", timestamp="17643312OO"),
        signed("timestamp-negative", "MALFORMED", timestamp="-1"),
        signed("timestamp-fraction", "MALFORMED", timestamp=f"{NOW}.5"),
        signed("timestamp-plus", "MALFORMED", timestamp=f"+{NOW}"),
        signed("timestamp-empty", "MALFORMED", timestamp=""),
        signed("timestamp-superscript-digit", "MALFORMED", timestamp=wire("²")),
        signed("timestamp-arabic-digits", "MALFORMED", timestamp=wire("١٧٦٤٣٣١٢٠٠")),
        signed("timestamp-13-digits", "MALFORMED", timestamp="0" * 3 + str(NOW)),
        signed("timestamp-12-digits", "ok:alice", timestamp="00" + str(NOW)),
        signed("repeated-user", "MISSING_OR_REPEATED", transform=repeat(USER)),
        signed("repeated-timestamp", "MISSING_OR_REPEATED", transform=repeat(TIMESTAMP)),
        signed("repeated-signature", "MISSING_OR_REPEATED", transform=repeat(SIGNATURE)),
        signed("missing-signature", "MISSING_OR_REPEATED", transform=drop(SIGNATURE)),
        signed("missing-timestamp", "MISSING_OR_REPEATED", transform=drop(TIMESTAMP)),
        signed("missing-user", "MISSING_OR_REPEATED", transform=drop(USER)),
        signed("absent", "ABSENT", transform=drop(USER, TIMESTAMP, SIGNATURE)),
    ]


class _Directory:
    """Every name exists and is active: the vectors test the headers, not the directory."""

    async def get(self, name: str) -> UserRecord:
        return UserRecord(1, name, name, name, "", True, False, frozenset())


def python_outcome(vector: Vector) -> str:
    """What jiraguard's own verifier makes of the vector: ``ok:<user>``, ``refused``, ``absent``."""
    settings = SignedIdentitySettings(
        enabled=True, shared_secret=SECRET, trusted_peers=["127.0.0.1/32"], max_age=MAX_AGE
    )
    verifier = SignedIdentity(settings, _Directory(), clock=lambda: float(NOW))  # type: ignore[arg-type]
    path, _, query = vector.target.partition("?")
    scope = {
        "type": "http",
        "method": vector.method,
        "path": path,
        "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in vector.headers],
        "client": ("127.0.0.1", 40000),
    }
    if not verifier.applies(scope):
        return "absent"
    try:
        principal = asyncio.run(verifier.authenticate(scope))
    except InvalidToken:
        return "refused"
    return f"ok:{principal.username}"


def agrees(expect: str, python: str) -> bool:
    if expect.startswith("ok:"):
        return python == expect
    if expect == "ABSENT":
        return python == "absent"
    # Python does not look at the other two headers when the user header is missing
    return python == "refused" or (python == "absent" and expect == "MISSING_OR_REPEATED")


def escape(text: str) -> str:
    """A properties-file value: ASCII only, everything else as \\uXXXX (UTF-16 units)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "=:#!" or (ch == " " and i == 0):
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            units = ch.encode("utf-16-be")
            for j in range(0, len(units), 2):
                out.append("\\u%04x" % int.from_bytes(units[j : j + 2], "big"))
    return "".join(out)


def main(path: str) -> int:
    lines = [
        "# Generated by jira-authenticator/vectors.py from jiraguard.auth.signed_identity; do not edit.",
        f"secret={escape(SECRET)}",
        f"now={NOW}",
        f"max_age={MAX_AGE}",
    ]
    all_vectors = vectors()
    disagreements = []
    for index, vector in enumerate(all_vectors):
        python = python_outcome(vector)
        if not agrees(vector.expect, python):
            disagreements.append(f"{vector.name}: expected {vector.expect}, Python verifier says {python}")
        prefix = f"vector.{index}"
        lines += [
            f"{prefix}.name={escape(vector.name)}",
            f"{prefix}.expect={escape(vector.expect)}",
            f"{prefix}.method={escape(vector.method)}",
            f"{prefix}.target={escape(vector.target)}",
            f"{prefix}.headers={len(vector.headers)}",
        ]
        for h, (name, value) in enumerate(vector.headers):
            lines += [f"{prefix}.header.{h}.name={escape(name)}", f"{prefix}.header.{h}.value={escape(value)}"]
    lines.insert(1, f"count={len(all_vectors)}")
    if disagreements:
        print("vectors.py: the Python verifier disagrees:\n  " + "\n  ".join(disagreements), file=sys.stderr)
        return 1
    with open(path, "w", encoding="ascii") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {len(all_vectors)} vectors to {path} (all agree with the Python verifier)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: vectors.py OUTPUT")
    sys.exit(main(sys.argv[1]))
