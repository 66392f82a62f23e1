"""Cheap reads of the catalogue for pickers, lists and the last sales.

Statements read often are built once (``functools.cache``) with bound parameters: building a
statement costs more than running it.
"""

from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.stock.models import Publication


def publication_named(
    session: Session, group: Group, title: str, issue: str = ""
) -> Publication | None:
    """Return the group's title with this name and issue (the demo data finds its titles so)."""
    return session.scalar(
        sa.select(Publication).where(
            Publication.group_id == group.id,
            Publication.title == title,
            Publication.issue_number == issue,
        )
    )


def title_label() -> sa.ColumnElement[str]:
    """:attr:`Publication.full_title` in SQL, for queries that read plain rows."""
    return sa.case(
        (Publication.issue_number == "", Publication.title),
        else_=Publication.title + " " + Publication.issue_number,
    )


def title_choices(session: Session, group: Group) -> list[tuple[int, str]]:
    """Return ``(id, title with its issue)`` of the group's active titles, alphabetically.

    Plain rows rather than loaded titles: a picker of the whole catalogue stays cheap.
    """
    rows = session.execute(_title_choices_statement(), {"group_id": group.id})
    return [(pid, title) for pid, title in rows]


@cache
def _title_choices_statement() -> sa.Select:
    return (
        sa.select(Publication.id, title_label())
        .where(
            Publication.group_id == sa.bindparam("group_id", type_=sa.Integer),
            Publication.active.is_(True),
        )
        .order_by(Publication.title, Publication.issue_number, Publication.id)
    )
