"""The default workflow every project uses (Jira's classic "jira" workflow).

Open → In Progress → Resolved → Closed, Reopen from Resolved/Closed to Reopened, Stop
Progress back to Open. Transition ids are Jira's own for that workflow; the API sends them
as numeric strings (docs/jira-compat.md rule 10).
"""

from __future__ import annotations

from dataclasses import dataclass

from jiraguard.jira import catalog
from jiraguard.jira.catalog import CLOSED, OPEN, REOPENED, RESOLVED, STARTED, Status


@dataclass(frozen=True, slots=True)
class Transition:
    """A workflow move from any of ``sources`` (status ids) to ``target``."""

    id: int
    name: str
    sources: frozenset[int]
    target: Status
    opsbar_sequence: int

    @property
    def resolves(self) -> bool:
        """Whether the issue is done afterwards (so it gets a resolution)."""
        return self.target.category == catalog.DONE


def _from(*statuses: Status) -> frozenset[int]:
    return frozenset(s.id for s in statuses)


TRANSITIONS = (
    Transition(4, "Start Progress", _from(OPEN, REOPENED), STARTED, 10),
    Transition(301, "Stop Progress", _from(STARTED), OPEN, 20),
    Transition(5, "Resolve Issue", _from(OPEN, STARTED, REOPENED), RESOLVED, 30),
    Transition(2, "Close Issue", _from(OPEN, STARTED, REOPENED, RESOLVED), CLOSED, 40),
    Transition(3, "Reopen Issue", _from(RESOLVED, CLOSED), REOPENED, 50),
)

INITIAL_STATUS = OPEN

STATUSES = tuple(
    s for s in catalog.STATUSES if s == INITIAL_STATUS or any(t.target == s for t in TRANSITIONS)
)
"""The statuses an issue can be in, in the catalog's order (``/project/{key}/statuses``)."""


def available(status_id: int) -> list[Transition]:
    """The transitions an issue in ``status_id`` can take, in the order Jira lists them."""
    return [t for t in TRANSITIONS if status_id in t.sources]
