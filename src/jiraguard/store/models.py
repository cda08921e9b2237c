"""SQLAlchemy models. Migrations in ``migrations/versions`` create exactly these tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


user_groups = Table(
    "user_groups",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A Jira user in the local directory."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    """The Jira user name as shown; looked up case-insensitively through ``lower_name``."""
    lower_name: Mapped[str] = mapped_column(String(255), unique=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )

    groups: Mapped[list[Group]] = relationship(secondary=user_groups, lazy="raise")
    """Loaded only where asked for (``WITH_GROUPS``): issues join several users each, and
    loading every one's groups would cost a query per user on every issue read."""


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    lower_name: Mapped[str] = mapped_column(String(255), unique=True)


WITH_GROUPS = selectinload(User.groups)
"""The loader option for queries whose users' groups are read."""


class Project(Base):
    """A Jira project. ``issue_counter`` hands out issue numbers: never decreases, never reused."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    project_type_key: Mapped[str] = mapped_column(String(32), default="software")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    issue_counter: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    assignee_type: Mapped[str] = mapped_column(
        String(16), default="UNASSIGNED", server_default="UNASSIGNED"
    )
    """The default assignee ("automatic"): ``PROJECT_LEAD`` or ``UNASSIGNED``."""

    lead: Mapped[User | None] = relationship(lazy="joined")


class Issue(Base):
    """A Jira issue. Status, type, priority and resolution ids refer to ``jira.catalog``."""

    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_issues_project_status_created", "project_id", "status_id", "created_at"),
        Index("ix_issues_created", "created_at"),
        Index("ix_issues_updated", "updated_at"),
        Index("ix_issues_assignee", "assignee_id"),
        Index("ix_issues_reporter", "reporter_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(48), unique=True)
    summary: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    issuetype_id: Mapped[int] = mapped_column(Integer)
    status_id: Mapped[int] = mapped_column(Integer)
    priority_id: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution_id: Mapped[int | None] = mapped_column(Integer, default=None)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    original_estimate: Mapped[int | None] = mapped_column(Integer, default=None)
    """Time tracking, in seconds: Jira's ``timeoriginalestimate``; None when not estimated."""
    remaining_estimate: Mapped[int | None] = mapped_column(Integer, default=None)
    """``timeestimate``: what is left; worklogs adjust it (``adjustEstimate``)."""
    time_spent: Mapped[int | None] = mapped_column(Integer, default=None)
    """``timespent``: the sum of the worklogs, kept with them; None when there are none."""

    project: Mapped[Project] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="joined")
    creator: Mapped[User | None] = relationship(foreign_keys=[creator_id], lazy="joined")
    labels: Mapped[list[IssueLabel]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IssueLabel.label"
    )
    fix_versions: Mapped[list[Version]] = relationship(
        secondary="issue_fix_versions", lazy="raise", order_by="Version.sequence"
    )
    """``fixVersions``; like the two below, loaded only by edits that change it (reads go
    through ``issue_items``)."""
    versions: Mapped[list[Version]] = relationship(
        secondary="issue_affected_versions", lazy="raise", order_by="Version.sequence"
    )
    components: Mapped[list[Component]] = relationship(
        secondary="issue_components", lazy="raise", order_by="Component.lower_name"
    )


class IssueLabel(Base):
    __tablename__ = "issue_labels"
    __table_args__ = (Index("ix_issue_labels_label", "label"),)

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(255), primary_key=True)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    update_author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    visibility_type: Mapped[str | None] = mapped_column(String(16), default=None)
    """``group`` or ``role``: only that group's members, or that project role's, see the
    comment (Jira's comment ``visibility``); None: everyone who sees the issue."""
    visibility_value: Mapped[str | None] = mapped_column(String(255), default=None)
    """The group's or the role's name, as Jira shows it."""

    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")
    update_author: Mapped[User | None] = relationship(
        foreign_keys=[update_author_id], lazy="joined"
    )


class ChangeGroup(Base):
    """One change to an issue (Jira's changelog "history"), by one user at one time."""

    __tablename__ = "change_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    items: Mapped[list[ChangeItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ChangeItem.id"
    )


class ChangeItem(Base):
    __tablename__ = "change_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("change_groups.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(255))
    from_value: Mapped[str | None] = mapped_column(Text, default=None)
    from_string: Mapped[str | None] = mapped_column(Text, default=None)
    to_value: Mapped[str | None] = mapped_column(Text, default=None)
    to_string: Mapped[str | None] = mapped_column(Text, default=None)
    field_type: Mapped[str | None] = mapped_column(String(16), default=None)
    """Jira's ``fieldtype``: ``custom`` for a custom field's change; None is ``jira``."""


class Worklog(Base):
    __tablename__ = "worklogs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    update_author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    time_spent_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")
    update_author: Mapped[User | None] = relationship(
        foreign_keys=[update_author_id], lazy="joined"
    )


class IssueLink(Base):
    """``link_type_id`` refers to ``jira.catalog`` link types."""

    __tablename__ = "issue_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_type_id: Mapped[int] = mapped_column(Integer)
    inward_issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    outward_issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PersonalToken(Base):
    """A personal access token. Only the SHA-256 of the token is kept, never the token."""

    __tablename__ = "personal_tokens"
    __table_args__ = (Index("ix_personal_tokens_user", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Hex SHA-256 of the whole token (prefix included)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    user: Mapped[User] = relationship(lazy="joined")


class AuditEvent(Base):
    """One audit record: an authentication decision (``auth``) or a change (``token``,
    ``config``). Carries a token's fingerprint at most, never a token."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_username_at", "username", "at"),
        Index("ix_audit_events_allowed_at", "allowed", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16), default="auth")
    allowed: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(1024), default="")
    method: Mapped[str] = mapped_column(String(16), default="")
    path: Mapped[str] = mapped_column(String(2048), default="")
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    username: Mapped[str | None] = mapped_column(String(255), default=None)
    provider: Mapped[str | None] = mapped_column(String(64), default=None)
    auth_method: Mapped[str | None] = mapped_column(String(32), default=None)
    client_id: Mapped[str | None] = mapped_column(String(255), default=None)
    token_id: Mapped[str | None] = mapped_column(String(64), default=None)
    fingerprint: Mapped[str | None] = mapped_column(String(16), default=None)
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """How many identical accepted requests this row stands for (see the audit sink)."""
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    """When the last of those ``count`` requests came (``at`` is the first)."""
    last_fingerprint: Mapped[str | None] = mapped_column(String(16), default=None)
    """For refusals aggregated over distinct tokens: the last token's fingerprint
    (``fingerprint`` is the first's)."""


class ConfigOverlay(Base):
    """The configuration saved from the admin UI (one row, ``id`` 1): a JSON document of the
    sections the UI manages, laid over the configuration file (see ``jiraguard.config_store``)."""

    __tablename__ = "config_overlay"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(255))


class Change(Base):
    """One entry of the change feed: every process applies it (``config``: reload the
    configuration; ``user``: drop what is cached for ``subject``). Ids only grow."""

    __tablename__ = "changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(255), default=None)


class AdminSession(Base):
    """A login to the admin web UI. Only the SHA-256 of the session id is kept, so a copy of
    the database cannot be replayed as a cookie."""

    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(255))
    csrf_token: Mapped[str] = mapped_column(String(64))
    """The token every form of this session must post back (``_csrf``)."""
    method: Mapped[str] = mapped_column(String(32))
    """How the admin logged in: ``password`` or the provider's name."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Version(Base):
    """A project's version (release): what issues name in ``fixVersions`` and ``versions``."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("project_id", "lower_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    lower_name: Mapped[str] = mapped_column(String(255))
    """Names are unique in a project, compared case-insensitively as Jira compares them."""
    description: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    release_date: Mapped[date | None] = mapped_column(Date, default=None)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    """The order Jira lists a project's versions in: creation order here."""


class Component(Base):
    """A project's component: what issues name in ``components``."""

    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("project_id", "lower_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    lower_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    assignee_type: Mapped[str] = mapped_column(String(16), default="PROJECT_DEFAULT")
    """``PROJECT_DEFAULT``, ``COMPONENT_LEAD``, ``PROJECT_LEAD`` or ``UNASSIGNED``."""

    lead: Mapped[User | None] = relationship(lazy="joined")
    project: Mapped[Project] = relationship(lazy="joined")


def _issue_association(name: str, target: str) -> Table:
    """An issue ↔ version/component table: both sides cascade, so deleting either forgets it."""
    return Table(
        name,
        Base.metadata,
        Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
        Column(
            f"{target}_id",
            ForeignKey(f"{target}s.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )


issue_fix_versions = _issue_association("issue_fix_versions", "version")
"""An issue's ``fixVersions``."""
issue_affected_versions = _issue_association("issue_affected_versions", "version")
"""An issue's ``versions`` (JQL's ``affectedVersion``)."""
issue_components = _issue_association("issue_components", "component")
"""An issue's ``components``."""


class ApplicationProperty(Base):
    """A Jira application property an administrator changed (``PUT /application-properties``);
    the others have their default (``jira/properties.py``)."""

    __tablename__ = "application_properties"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Filter(Base):
    """A saved search (Jira's filter): private to its owner, whose names are unique
    (case-insensitive, as Jira compares them)."""

    __tablename__ = "filters"
    __table_args__ = (UniqueConstraint("owner_id", "lower_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    lower_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    jql: Mapped[str] = mapped_column(Text)
    favourite: Mapped[bool] = mapped_column(Boolean, default=False)
    """On the owner's favourite list (``/filter/favourite``)."""

    owner: Mapped[User] = relationship(lazy="joined")


def _issue_people(name: str) -> Table:
    """An issue ↔ user table (watchers, voters): deleting either side forgets the pair."""
    return Table(
        name,
        Base.metadata,
        Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    )


issue_watchers = _issue_people("issue_watchers")
"""Who watches an issue (``/issue/{k}/watchers``, ``fields.watches``, JQL ``watcher``)."""
issue_voters = _issue_people("issue_voters")
"""Who voted for an issue (``/issue/{k}/votes``, ``fields.votes``, JQL ``voter``)."""


class RemoteLink(Base):
    """A link from an issue to an object in another system (Jira's remote issue link).

    ``document`` holds the link's ``application``, ``relationship`` and ``object`` as JSON,
    exactly as they were given; ``global_id`` is kept apart to find a link by it.
    """

    __tablename__ = "remote_links"
    __table_args__ = (Index("ix_remote_links_issue_global_id", "issue_id", "global_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    global_id: Mapped[str | None] = mapped_column(String(255), default=None)
    document: Mapped[str] = mapped_column(Text)


class IssueProperty(Base):
    """An issue's entity property: a JSON value (its text, as given) under a key."""

    __tablename__ = "issue_properties"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CustomField(Base):
    """A custom field (``customfield_{id}``); ids start at 10000, as Jira numbers them.
    Every field applies to all projects and issue types (Jira's global context)."""

    __tablename__ = "custom_fields"
    __table_args__ = (Index("ix_custom_fields_lower_name", "lower_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))
    lower_name: Mapped[str] = mapped_column(String(255))
    """JQL names a field case-insensitively; names need not be unique, as in Jira."""
    description: Mapped[str] = mapped_column(Text, default="")
    type_key: Mapped[str] = mapped_column(String(64))
    """The type's short key (``textfield``, ``select``…; see ``jira.custom_fields``)."""
    searcher_key: Mapped[str | None] = mapped_column(String(64), default=None)
    """The searcher's short key; None: the field cannot be searched (JQL), as in Jira."""


class CustomFieldOption(Base):
    """An option of a select or multi-select field (``/customFieldOption/{id}``)."""

    __tablename__ = "custom_field_options"
    __table_args__ = (UniqueConstraint("field_id", "lower_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(String(255))
    lower_value: Mapped[str] = mapped_column(String(255))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    """The order Jira lists (and sorts) the options in."""


class CustomFieldValue(Base):
    """One value of a custom field on an issue; a multi-valued field (multi-select,
    labels) has one row per value. Exactly one value column is set, the one of the
    field's type. Each value column is indexed with the field first and the issue last,
    so a JQL clause reads the issues of its field and value from the index alone."""

    __tablename__ = "custom_field_values"
    __table_args__ = (
        Index("ix_custom_field_values_issue", "issue_id", "field_id"),
        Index("ix_custom_field_values_option", "field_id", "option_id", "issue_id"),
        Index("ix_custom_field_values_number", "field_id", "number_value", "issue_id"),
        Index("ix_custom_field_values_string", "field_id", "string_value", "issue_id"),
        Index("ix_custom_field_values_date", "field_id", "date_value", "issue_id"),
        Index("ix_custom_field_values_datetime", "field_id", "datetime_value", "issue_id"),
        Index("ix_custom_field_values_user", "field_id", "user_id", "issue_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    text_value: Mapped[str | None] = mapped_column(Text, default=None)
    """Text fields (searched with ``~`` through the full-text index of migration 0013)."""
    string_value: Mapped[str | None] = mapped_column(String(255), default=None)
    """Labels: compared whole, so indexed."""
    number_value: Mapped[float | None] = mapped_column(Float, default=None)
    date_value: Mapped[date | None] = mapped_column(Date, default=None)
    datetime_value: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_field_options.id", ondelete="CASCADE"), default=None
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
