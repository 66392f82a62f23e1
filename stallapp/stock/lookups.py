"""Cheap reads of the catalogue for pickers and the sale screen.

Their statements are built once (``functools.cache``) with bound parameters: the sale screen runs
them on every load, and building a statement costs more than running it.
"""

from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from stallapp.accounts.models import Group
from stallapp.stock.models import (
    Publication,
    PublicationPrice,
    SubscriptionOffer,
    SubscriptionPrice,
)


def publications_by_id(session: Session, group: Group, ids: Iterable[int]) -> list[Publication]:
    """Return the group's titles among ``ids``, with their prices, alphabetically."""
    parameters = {"group_id": group.id, "ids": list(ids)}
    return list(session.scalars(_publications_by_id_statement(), parameters).unique())


@cache
def _publications_by_id_statement() -> sa.Select:
    # Built once, like the other statements the sale screen runs on every load.
    return (
        sa.select(Publication)
        .where(
            Publication.group_id == sa.bindparam("group_id", type_=sa.Integer),
            Publication.id.in_(sa.bindparam("ids", expanding=True)),
        )
        .options(joinedload(Publication.prices))
        .order_by(Publication.title, Publication.issue_number, Publication.id)
    )


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


def price_currencies(session: Session, group: Group) -> set[str]:
    """Return every currency the group's titles and subscription offers have a price in."""
    return set(session.scalars(_price_currencies_statement(), {"group_id": group.id}))


@cache
def _price_currencies_statement() -> sa.CompoundSelect:
    group_id = sa.bindparam("group_id", type_=sa.Integer)
    titles = (
        sa.select(PublicationPrice.currency)
        .join(Publication, Publication.id == PublicationPrice.publication_id)
        .where(Publication.group_id == group_id)
    )
    offers = (
        sa.select(SubscriptionPrice.currency)
        .join(SubscriptionOffer, SubscriptionOffer.id == SubscriptionPrice.offer_id)
        .where(SubscriptionOffer.group_id == group_id)
    )
    return sa.union(titles, offers)
