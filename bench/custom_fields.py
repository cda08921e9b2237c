"""Give a seeded benchmark database's issues custom field values, as a Jira site has them.

    .venv/bin/python -m bench.custom_fields DATABASE_URL

Creates (once) a select ``Bench Team`` with five options, a number ``Bench Points`` and a
single-line text ``Bench Note``, then replaces their values on every issue: a team on 80%
of the issues (weighted towards the first options), points on 60%, a note of random words
(``bench.seed``'s vocabulary) on 30%. Rows go in with Core ``executemany`` in batches, as
``bench.seed`` inserts issues; the random generator is seeded, so runs repeat.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Connection, create_engine, delete, func, insert, select

from bench.seed import BATCH, Writer
from jiraguard.store.db import driver_urls, run_migrations
from jiraguard.store.models import CustomField, CustomFieldOption, CustomFieldValue, Issue

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
TEAMS = ["Platform", "Mobile", "Payments", "Growth", "Infra"]
FIELDS = (
    ("Bench Team", "select", "multiselectsearcher"),
    ("Bench Points", "float", "exactnumber"),
    ("Bench Note", "textfield", "textsearcher"),
)
"""Name, type and searcher (short keys, as ``custom_fields`` stores them)."""


def _field(connection: Connection, name: str, type_key: str, searcher: str) -> int:
    found = connection.scalar(select(CustomField.id).where(CustomField.name == name))
    if found is not None:
        return int(found)
    ident = max(int(connection.scalar(select(func.max(CustomField.id))) or 0) + 1, 10000)
    connection.execute(
        insert(CustomField).values(
            id=ident,
            name=name,
            lower_name=name.lower(),
            description="benchmark",
            type_key=type_key,
            searcher_key=searcher,
        )
    )
    if type_key == "select":
        first = max(int(connection.scalar(select(func.max(CustomFieldOption.id))) or 0) + 1, 10000)
        connection.execute(
            insert(CustomFieldOption),
            [
                {
                    "id": first + n,
                    "field_id": ident,
                    "value": team,
                    "lower_value": team.lower(),
                    "sequence": n + 1,
                }
                for n, team in enumerate(TEAMS)
            ],
        )
    return ident


def populate(url: str) -> int:
    """Create the fields if needed and replace their values on every issue; rows written."""
    run_migrations(url)
    engine = create_engine(driver_urls(url)[1])
    writer = Writer(seed=20260102)
    rnd = writer.random
    try:
        with engine.begin() as connection:
            team, points, note = (_field(connection, *spec) for spec in FIELDS)
            options = list(
                connection.scalars(
                    select(CustomFieldOption.id)
                    .where(CustomFieldOption.field_id == team)
                    .order_by(CustomFieldOption.sequence)
                )
            )
            connection.execute(
                delete(CustomFieldValue).where(CustomFieldValue.field_id.in_([team, points, note]))
            )
            issues = list(connection.scalars(select(Issue.id).order_by(Issue.id)))
        rows: list[dict[str, Any]] = []
        written = 0
        for issue_id in issues:
            if rnd.random() < 0.8:
                option = rnd.choices(options, [5, 4, 3, 2, 1])[0]
                rows.append(_row(issue_id, team, option_id=option))
            if rnd.random() < 0.6:
                number = float(rnd.choice((1, 2, 3, 5, 8, 13)))
                rows.append(_row(issue_id, points, number_value=number))
            if rnd.random() < 0.3:
                rows.append(_row(issue_id, note, text_value=writer.words(3, 12)))
            if len(rows) >= BATCH or issue_id == issues[-1]:
                with engine.begin() as connection:
                    connection.execute(insert(CustomFieldValue), rows)
                written += len(rows)
                rows = []
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                "VACUUM ANALYZE custom_field_values"
                if engine.dialect.name == "postgresql"
                else "ANALYZE"
            )
        return written
    finally:
        engine.dispose()


def _row(issue_id: int, field_id: int, **value: Any) -> dict[str, Any]:
    """One value row: every value column present (``executemany`` wants the same keys)."""
    row: dict[str, Any] = dict.fromkeys(("option_id", "number_value", "text_value"))
    row.update(issue_id=issue_id, field_id=field_id, **value)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL, e.g. sqlite:///bench.db")
    print(f"{populate(parser.parse_args().url):,} custom field values written")


if __name__ == "__main__":
    main()
