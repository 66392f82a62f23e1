"""Settings of the installation's network page and of each group's public presence elsewhere."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group
from stallapp.extensions import db


class PublicPageSettings(db.Model):
    """A group's choices about where its public events and titles appear beyond its own pages."""

    __tablename__ = "public_page_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), unique=True
    )
    #: The group's published events and titles appear on the network pages (/events,
    #: /publications); groups opt in, so a new group is never listed by surprise.
    listed_on_network: Mapped[bool] = mapped_column(default=False)
    #: Origins allowed to frame the group's embeds (CSP frame-ancestors), one per line, e.g.
    #: ``https://www.leftcom.org``; empty: nobody may frame them.
    embed_origins: Mapped[str] = mapped_column(sa.Text, default="")

    group: Mapped[Group] = relationship()

    @property
    def origins(self) -> list[str]:
        """The allowed framing origins as a list."""
        return self.embed_origins.split()


class SiteSettings(db.Model):
    """The installation's own name and the short text of its network page (one row, id 1)."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    #: Plain text shown at the top of /events and /publications.
    intro: Mapped[str] = mapped_column(sa.Text, default="")
