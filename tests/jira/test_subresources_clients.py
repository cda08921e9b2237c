"""Acceptance: watchers, votes, remote links and issue properties through the documented
calls of the real clients, ``jira`` (pycontribs 3.10.5) and ``atlassian-python-api``
(5.0.5), on a loopback server with real JWT access tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atlassian import Jira
from requests import HTTPError

from jira import JIRA, JIRAError
from tests.support.idp import TestProvider

pytestmark = pytest.mark.idp


def _client(base: str, idp: TestProvider, user: str) -> JIRA:
    return JIRA(server=base, token_auth=idp.jwt_token(user), max_retries=0)


@pytest.fixture(scope="module")
def alice(live_base: str, idp: TestProvider) -> Iterator[JIRA]:
    client = _client(live_base, idp, "alice")
    client.create_project("SUB", "Sub-resources")
    yield client
    client.close()


@pytest.fixture(scope="module")
def bob(live_base: str, idp: TestProvider, alice: JIRA) -> Iterator[JIRA]:
    client = _client(live_base, idp, "bob")
    yield client
    client.close()


def _issue(client: JIRA, summary: str) -> str:
    made = client.create_issue(project="SUB", issuetype="Task", summary=summary)
    return str(made.key)


def test_jira_client_watchers_and_votes(alice: JIRA, bob: JIRA) -> None:
    key = _issue(alice, "Watch and vote")
    watchers = alice.watchers(key)
    assert (watchers.watchCount, watchers.isWatching) == (1, True)
    assert [w.name for w in watchers.watchers] == ["alice"]

    alice.add_watcher(key, "bob")
    assert [w.name for w in alice.watchers(key).watchers] == ["alice", "bob"]
    assert bob.watchers(key).isWatching is True
    assert bob.issue(key).fields.watches.watchCount == 2
    assert [i.key for i in alice.search_issues("watcher = bob")] == [key]
    with pytest.raises(JIRAError) as refused:
        bob.remove_watcher(key, "alice")
    assert refused.value.status_code == 401
    alice.remove_watcher(key, "bob")
    assert [w.name for w in alice.watchers(key).watchers] == ["alice"]
    bob.add_watcher(key, "bob")  # anyone may watch
    assert bob.issue(key, fields="watches").fields.watches.isWatching is True

    bob.add_vote(key)
    votes = bob.votes(key)
    assert (votes.votes, votes.hasVoted) == (1, True)
    assert [v.name for v in votes.voters] == ["bob"]
    assert alice.issue(key).fields.votes.votes == 1
    assert alice.issue(key).fields.votes.hasVoted is False
    assert [i.key for i in alice.search_issues("votes > 0")] == [key]
    with pytest.raises(JIRAError) as own:
        alice.add_vote(key)
    assert own.value.status_code == 404
    assert "You cannot vote for an issue you have reported." in own.value.text
    bob.remove_vote(key)
    assert alice.votes(key).votes == 0


def test_jira_client_remote_links(alice: JIRA) -> None:
    key = _issue(alice, "Linked out")
    simple = alice.add_simple_link(key, {"url": "https://example.com/a", "title": "A"})
    assert simple.id
    # jiraguard serves no application links: the client warns and links without them
    with pytest.warns(Warning, match="applicationlinks"):
        full = alice.add_remote_link(
            key,
            {"url": "https://example.com/b", "title": "B", "summary": "Bee"},
            globalId="system=example&id=b",
            application={"type": "com.example", "name": "Example"},
            relationship="mentioned in",
        )
    links = alice.remote_links(key)
    assert [link.object.title for link in links] == ["A", "B"]
    fetched = alice.remote_link(key, full.id)
    assert (fetched.globalId, fetched.relationship) == ("system=example&id=b", "mentioned in")
    assert (fetched.application.name, fetched.object.summary) == ("Example", "Bee")
    fetched.update({"url": "https://example.com/b2", "title": "B2"}, globalId="system=example&id=b")
    assert alice.remote_link(key, full.id).object.url == "https://example.com/b2"
    alice.remote_link(key, simple.id).delete()
    assert [link.id for link in alice.remote_links(key)] == [full.id]
    with pytest.raises(JIRAError) as gone:
        alice.remote_link(key, simple.id)
    assert gone.value.status_code == 404
    with pytest.raises(JIRAError) as bad:
        alice.add_simple_link(key, {"url": "not a uri", "title": "x"})
    assert bad.value.status_code == 400


def test_jira_client_issue_properties(alice: JIRA) -> None:
    key = _issue(alice, "With properties")
    assert alice.add_issue_property(key, "build", {"number": 7, "ok": True}).status_code == 201
    assert alice.add_issue_property(key, "build", {"number": 8}).status_code == 200
    alice.add_issue_property(key, "notes", ["a", "b"])
    assert alice.issue_property(key, "build").value.number == 8
    assert [p.key for p in alice.issue_properties(key)] == ["build", "notes"]
    alice.issue_property(key, "notes").delete()
    assert [p.key for p in alice.issue_properties(key)] == ["build"]
    with pytest.raises(JIRAError) as missing:
        alice.issue_property(key, "notes")
    assert missing.value.status_code == 404
    alice.issue(key).delete()
    with pytest.raises(JIRAError):
        alice.issue_properties(key)


def test_atlassian_client(live_base: str, idp: TestProvider, alice: JIRA) -> None:
    jira = Jira(url=live_base, token=idp.jwt_token("alice"), cloud=False, backoff_and_retry=False)
    key = _issue(alice, "Atlassian")
    assert [w["name"] for w in jira.issue_get_watchers(key)["watchers"]] == ["alice"]
    jira.issue_add_watcher(key, "bob")  # sends the bare name, not a JSON string
    assert jira.issue_get_watchers(key)["watchCount"] == 2
    jira.issue_delete_watcher(key, user="bob")
    assert [w["name"] for w in jira.issue_get_watchers(key)["watchers"]] == ["alice"]

    made = jira.create_or_update_issue_remote_links(
        key, "https://example.com/c", "C", global_id="c", relationship="relates to"
    )
    again = jira.create_or_update_issue_remote_links(
        key, "https://example.com/c2", "C2", global_id="c"
    )
    assert again["id"] == made["id"]
    (link,) = jira.get_issue_remote_links(key)
    assert (link["object"]["title"], link["object"]["status"]) == (
        "C2",
        {"resolved": False, "icon": {}},
    )
    assert jira.get_issue_remote_links(key, global_id="c")["id"] == made["id"]
    jira.update_issue_remote_link_by_id(key, made["id"], "https://example.com/d", "D")
    assert jira.get_issue_remote_link_by_id(key, made["id"])["object"]["title"] == "D"
    jira.delete_issue_remote_link_by_id(key, made["id"])
    assert jira.get_issue_remote_links(key) == []

    jira.set_issue_property(key, "flag", {"on": True})
    assert jira.get_issue_property(key, "flag") == {"key": "flag", "value": {"on": True}}
    assert [k["key"] for k in jira.get_issue_property_keys(key)["keys"]] == ["flag"]
    jira.delete_issue_property(key, "flag")
    with pytest.raises(HTTPError):
        jira.get_issue_property(key, "flag")
