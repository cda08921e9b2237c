"""JQL, the Jira Query Language: parse a query, compile it to SQL, run it.

``search_issues`` is the whole public API with ``JQLError``; ``parse`` gives the syntax tree.
The pipeline, one module per step::

    parser (grammar.lark, reserved -> syntax)  ->  lookups (projects, users, groups)
      ->  compiler -> fields (id_fields, date_fields, dates, textsearch, item_fields,
                              time_fields, people_fields, custom_fields; clauses shared)
      ->  ordering  ->  search

Supported: docs/jira-compat.md §7. Fields project, key/issuekey/id, summary, description,
text, comment, status, statusCategory, priority, issuetype/type, assignee, reporter,
creator, labels, created, updated, resolution, resolutiondate/resolved, duedate/due,
fixVersion, affectedVersion, component, originalEstimate, remainingEstimate, timeSpent,
watcher, voter, watchers, votes, and custom fields as ``cf[id]`` or by name;
operators = != > >= < <= ~ !~ IN, NOT IN, IS [NOT] EMPTY/NULL, AND (&&), OR (||), NOT (!);
functions currentUser(), membersOf(), now(), start/endOfDay/Week/Month/Year([increment]),
releasedVersions(), unreleasedVersions(), latestReleasedVersion(),
earliestUnreleasedVersion().
Errors are ``JQLError``, worded as Jira words them (docs/jira-compat.md §6).
"""

from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.parser import parse
from jiraguard.jira.jql.search import search_issues

__all__ = ["JQLError", "parse", "search_issues"]
