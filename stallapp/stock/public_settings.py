"""The settings of a group's public catalogue page."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.stock.models import CatalogueSettings


def catalogue_settings(session: Session, group: Group) -> CatalogueSettings | None:
    """Return the group's catalogue settings, or None before an organiser saved any."""
    return session.scalar(
        sa.select(CatalogueSettings).where(CatalogueSettings.group_id == group.id)
    )


def save_how_to_order(session: Session, group: Group, text: str) -> CatalogueSettings:
    """Set the group's "how to order" text shown on its public catalogue page."""
    settings = catalogue_settings(session, group)
    if settings is None:
        settings = CatalogueSettings(group_id=group.id)
        session.add(settings)
    settings.how_to_order = text.strip()
    session.flush()
    return settings
