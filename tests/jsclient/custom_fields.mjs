// Drives the npm `jira-client` package's custom field calls (createCustomField, listFields,
// addNewIssue, updateIssue, findIssue, searchJira) against jiraguard's embedded API and
// prints what it saw as one JSON object for tests/jira/test_custom_fields_clients.py.
//
// Environment: JIRA_URL (http://host:port), ALICE_TOKEN (an administrator).
import JiraApi from "jira-client";

const url = new URL(process.env.JIRA_URL);
const alice = new JiraApi({
  protocol: url.protocol.replace(":", ""),
  host: url.hostname,
  port: url.port,
  apiVersion: "2",
  strictSSL: true,
  bearer: process.env.ALICE_TOKEN,
});
const plugin = "com.atlassian.jira.plugin.system.customfieldtypes:";

const seen = {};
await alice.createProject({ key: "JCF", name: "JS custom fields", lead: "alice" });
const field = await alice.createCustomField({
  name: "JS Points",
  description: "Made by jira-client",
  type: `${plugin}float`,
  searcherKey: `${plugin}exactnumber`,
});
seen.field = field;
seen.listed = (await alice.listFields()).filter((f) => f.custom).map((f) => f.id);
const created = await alice.addNewIssue({
  fields: {
    project: { key: "JCF" },
    issuetype: { name: "Task" },
    summary: "Pointed",
    [field.id]: 8,
  },
});
await alice.updateIssue(created.key, { fields: { [field.id]: 13.5 } });
seen.value = (await alice.findIssue(created.key)).fields[field.id];
const found = await alice.searchJira(`cf[${field.schema.customId}] > 10`, {
  fields: [field.id],
});
seen.found = found.issues.map((issue) => [issue.key, issue.fields[field.id]]);
console.log(JSON.stringify(seen));
