"""Copying a title from another group an organiser also organises."""

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group, Membership, Role, User
from stallapp.accounts.services import organises
from stallapp.errors import NotAllowed
from stallapp.stock.models import Publication
from stallapp.stock.services import PublicationData, create_publication


def copyable_publications(session: Session, user: User, group: Group) -> list[Publication]:
    """Return the active titles of the other groups ``user`` organises, to copy into ``group``."""
    organised = (
        sa.select(Membership.group_id)
        .where(Membership.user_id == user.id, Membership.role == Role.ORGANISER)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            sa.select(Publication)
            .where(
                Publication.group_id.in_(organised),
                Publication.group_id != group.id,
                Publication.active.is_(True),
            )
            .options(selectinload(Publication.prices), selectinload(Publication.group))
            .order_by(Publication.group_id, Publication.title)
        )
    )


def copy_publication(
    session: Session, user: User, source: Publication, group: Group
) -> Publication:
    """Copy a title of another group ``user`` organises into ``group``, prices included.

    The copy is independent: each group then sets its own prices and keeps its own stock.

    :raises NotAllowed: when ``user`` does not organise the source's group.
    """
    if source.group_id == group.id or not organises(session, user, source.group):
        raise NotAllowed(_("You can copy only from other groups you organise."))
    copy = create_publication(
        session,
        group,
        PublicationData(
            title=source.title,
            kind=source.kind,
            language=source.language,
            issue_number=source.issue_number,
            issue_date=source.issue_date,
            isbn=source.isbn,
            is_free=source.is_free,
            reorder_level=source.reorder_level,
            prices={price.currency: price.amount for price in source.prices},
        ),
    )
    copy.copied_from_id = source.id
    session.flush()
    return copy
