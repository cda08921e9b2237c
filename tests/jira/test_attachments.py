"""Attachments: multipart upload, metadata, download under /rest (authenticated), delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HarnessFactory
from tests.jira.conftest import JiraApi, build_api
from tests.support.idp import TestProvider

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


@pytest.mark.parametrize(
    "xsrf", [{"X-Atlassian-Token": "no-check"}, {"X-Atlassian-Token": "nocheck"}, {}]
)
async def test_upload_download_delete(api: JiraApi, xsrf: dict[str, str]) -> None:
    await api.project()
    await api.issue("With files")
    uploaded = await api.call(
        "POST",
        "/issue/TEST-1/attachments",
        files=[
            ("file", ("a.txt", b"alpha", "text/plain")),
            ("file", ("b.bin", b"\x00\x01", "application/octet-stream")),
        ],
        headers=xsrf,
    )
    assert uploaded.status_code == 200, uploaded.text
    first, second = uploaded.json()
    assert set(first) == {
        "self",
        "id",
        "filename",
        "author",
        "created",
        "size",
        "mimeType",
        "content",
    }
    assert (first["filename"], first["size"], first["mimeType"]) == ("a.txt", 5, "text/plain")
    assert first["author"]["name"] == "alice"
    assert first["content"] == f"http://jira.test/rest/api/2/attachment/content/{first['id']}"
    assert (await api.call("GET", f"/attachment/{first['id']}")).json() == first

    download = await api.call("GET", f"/attachment/content/{second['id']}")
    assert download.content == b"\x00\x01"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"b.bin\"; filename*=UTF-8''b.bin"
    )
    anonymous = await api.harness.client.get(f"/rest/api/2/attachment/content/{second['id']}")
    assert anonymous.status_code == 401

    issue = (await api.call("GET", "/issue/TEST-1?fields=attachment&expand=changelog")).json()
    assert [a["filename"] for a in issue["fields"]["attachment"]] == ["a.txt", "b.bin"]
    assert [i["toString"] for i in issue["changelog"]["histories"][0]["items"]] == [
        "a.txt",
        "b.bin",
    ]

    assert (await api.call("DELETE", f"/attachment/{first['id']}")).status_code == 204
    assert (await api.call("GET", f"/attachment/{first['id']}")).status_code == 404


async def test_upload_problems(harness: HarnessFactory, idp: TestProvider, tokens: Any) -> None:
    small = await build_api(harness, idp, tokens, server={"max_body_bytes": 2048})
    await small.project()
    await small.issue("x")
    too_big = await small.call(
        "POST", "/issue/TEST-1/attachments", files={"file": ("big", b"x" * 4096)}
    )
    assert too_big.status_code == 413
    no_file = await small.call("POST", "/issue/TEST-1/attachments", files={"other": ("o", b"o")})
    assert no_file.status_code == 400
    not_multipart = await small.call("POST", "/issue/TEST-1/attachments", json={"file": "x"})
    assert not_multipart.status_code == 400
    broken = await small.call(
        "POST",
        "/issue/TEST-1/attachments",
        content=b"--b\r\nnonsense",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert broken.status_code == 400
    assert broken.json()["errorMessages"]
    unknown = await small.call("POST", "/issue/TEST-9/attachments", files={"file": ("f", b"f")})
    assert unknown.status_code == 404


async def test_hostile_file_names_and_types(api: JiraApi) -> None:
    """Names cannot climb directories or break headers; odd types are not served as is."""
    await api.project()
    await api.issue("x")
    body = (
        b"--B\r\n"
        b'Content-Disposition: form-data; name="file"; '
        b'filename="../../etc/\xe6\x96\x87\x07.txt"\r\n'
        b"Content-Type: text/html x-evil\r\n\r\n"
        b"1\r\n"
        b"--B\r\n"
        b'Content-Disposition: form-data; name="file"; filename=" \x01 "\r\n'
        b"Content-Type: Application/JSON; charset=utf-8\r\n\r\n"
        b"2\r\n"
        b"--B--\r\n"
    )
    uploaded = await api.call(
        "POST",
        "/issue/TEST-1/attachments",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert uploaded.status_code == 200, uploaded.text
    odd, plain = uploaded.json()
    assert (odd["filename"], odd["mimeType"]) == (".._.._etc_\u6587_.txt", "text/plain")
    assert (plain["filename"], plain["mimeType"]) == ("_", "application/json")
    download = await api.call("GET", f"/attachment/content/{odd['id']}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"] == (
        "attachment; filename=\".._.._etc___.txt\"; filename*=UTF-8''.._.._etc_%E6%96%87_.txt"
    )
