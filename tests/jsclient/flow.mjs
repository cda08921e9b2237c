// Drives the npm `jira-client` package through its documented calls against a Jira Server
// API (jiraguard's embedded one in the tests), with Bearer tokens, and prints what it saw
// as one JSON object for tests/jira/test_js_client.py to check.
//
// Environment: JIRA_URL (http://host:port), ALICE_TOKEN (an administrator), BOB_TOKEN.
import JiraApi from "jira-client";

const url = new URL(process.env.JIRA_URL);
const client = (bearer) =>
  new JiraApi({
    protocol: url.protocol.replace(":", ""),
    host: url.hostname,
    port: url.port,
    apiVersion: "2",
    strictSSL: true,
    bearer,
  });
const alice = client(process.env.ALICE_TOKEN);
const bob = client(process.env.BOB_TOKEN);

// jira-client throws a plain Error whose message is the error body re-serialised (the
// status is lost): parse it back.
async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return JSON.parse(error.message);
  }
}

const seen = {};
seen.me = (await alice.getCurrentUser()).name;
seen.created = await alice.createProject({
  key: "JSC",
  name: "JS client",
  projectTypeKey: "software",
  lead: "alice",
  assigneeType: "PROJECT_LEAD",
  permissionScheme: 0,
  notificationScheme: 10000,
});
const issue = await alice.addNewIssue({
  fields: { project: { key: "JSC" }, issuetype: { name: "Task" }, summary: "From jira-client" },
});
seen.key = issue.key;
seen.automaticOnCreate = (await alice.findIssue(issue.key)).fields.assignee?.name ?? null;
await alice.updateAssignee(issue.key, "bob");
seen.assigned = (await alice.findIssue(issue.key)).fields.assignee?.name ?? null;
await alice.updateAssignee(issue.key, "-1");
seen.automatic = (await alice.findIssue(issue.key)).fields.assignee?.name ?? null;

const admins = { type: "role", value: "Administrators" };
seen.restricted = await alice.addCommentAdvanced(issue.key, { body: "admins only", visibility: admins });
await alice.addComment(issue.key, "everyone");
seen.aliceComments = (await alice.getComments(issue.key)).comments.map((c) => c.body);
seen.bobComments = (await bob.getComments(issue.key)).comments.map((c) => c.body);
seen.bobFinds = (await bob.searchJira("comment ~ admins")).total;
seen.aliceFinds = (await alice.searchJira("comment ~ admins")).total;
seen.bobIssueComments = (await bob.findIssue(issue.key)).fields.comment.comments.map((c) => c.body);

const keys = Array.from({ length: 2000 }, (_, n) => `key = JSC-${n + 1}`).join(" OR ");
seen.twoThousandKeys = (await alice.searchJira(keys, { fields: ["key"] })).total;
const words = Array.from({ length: 1001 }, (_, n) => `summary ~ w${n}`).join(" OR ");
seen.tooLarge = await refusal(alice.searchJira(words));
seen.badVisibility = await refusal(bob.addCommentAdvanced(issue.key, { body: "x", visibility: admins }));
seen.expanded = Object.keys((await alice.findIssue(issue.key, "names,renderedFields")).names ?? {});

const person = { name: "jsuser", emailAddress: "js@example.com", displayName: "JS User" };
seen.createdUser = (await alice.createUser(person)).name;
seen.duplicateUser = await refusal(alice.createUser({ ...person, name: "JSUSER" }));
seen.refusedUser = await refusal(bob.createUser({ ...person, name: "other" }));
seen.groupMembers = (await alice.getMembersOfGroup("jira-users")).values.map((u) => u.name);
seen.statuses = (await alice.listStatus()).map((s) => s.name);
seen.projectStatuses = (await alice.genericGet("project/JSC/statuses")).map((t) => t.statuses.length);
seen.roles = Object.keys(await bob.genericGet("project/JSC/role"));
const held = (body) => Object.keys(body.permissions).filter((k) => body.permissions[k].havePermission);
seen.alicePermissions = held(await alice.genericGet("mypermissions"));
seen.bobPermissions = held(await bob.genericGet("mypermissions"));
const first = await alice.createVersion({ name: "JS-1", project: "JSC" });
await alice.createVersion({ name: "JS-2", project: "JSC" });
await alice.moveVersion(first.id, { position: "Last" });
seen.versionOrder = (await alice.getVersions("JSC")).map((v) => v.name);
const tracked = await alice.addNewIssue({
  fields: {
    project: { key: "JSC" },
    issuetype: { name: "Task" },
    summary: "Tracked",
    timetracking: { originalEstimate: "1d" },
  },
});
await alice.addWorklog(tracked.key, { timeSpent: "2h" }, "3h");
seen.remainingAfterNew = (await alice.findIssue(tracked.key)).fields.timetracking.remainingEstimate;
await alice.addWorklog(tracked.key, { timeSpent: "1h" });
const times = (await alice.findIssue(tracked.key)).fields;
seen.times = [times.timeoriginalestimate, times.timeestimate, times.timespent];
await alice.addWatcher(issue.key, "bob");
seen.watchers = (await bob.getIssueWatchers(issue.key)).watchers.map((w) => w.name);
const link = await alice.createRemoteLink(issue.key, {
  globalId: "js-1",
  object: { url: "https://example.com/js", title: "From JS" },
});
seen.remoteLinks = (await alice.getRemoteLinks(issue.key)).map((l) => [l.id === link.id, l.object.title]);
await alice.deleteRemoteLink(issue.key, link.id);
seen.remoteLinksAfter = (await alice.getRemoteLinks(issue.key)).length;
// jira-client reads properties but has no call to set one: plain HTTP sets it.
await fetch(`${process.env.JIRA_URL}/rest/api/2/issue/${issue.key}/properties/js`, {
  method: "PUT",
  headers: { Authorization: `Bearer ${process.env.ALICE_TOKEN}`, "Content-Type": "application/json" },
  body: JSON.stringify({ from: "fetch" }),
});
seen.property = await alice.getIssueProperty(issue.key, "js");
process.stdout.write(JSON.stringify(seen));
