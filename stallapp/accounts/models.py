"""Users, groups and what ties them together."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.extensions import db


class Role(enum.StrEnum):
    """A member's role in one group; higher roles can do everything lower ones can."""

    MEMBER = "member"
    ORGANISER = "organiser"

    @property
    def rank(self) -> int:
        return ROLE_RANKS[self]

    def allows(self, required: "Role") -> bool:
        return self.rank >= required.rank


ROLE_RANKS = {Role.MEMBER: 1, Role.ORGANISER: 2}


def new_catalogue_stamp() -> str:
    """Return a stamp no catalogue has had."""
    return secrets.token_hex(16)


class User(TimestampMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so one address is one account.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: False when an admin disabled the account; its sessions end and it cannot log in.
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: The user's own language; None means "follow the browser".
    locale: Mapped[str | None] = mapped_column(sa.String(10))

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    #: The server-side login session this object was loaded for (see LoginSession).
    login_token = None

    # Flask-Login's protocol.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    def get_id(self) -> str | None:
        """Return the login session's token, so a revoked session cannot be revived by a cookie."""
        return self.login_token

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class Group(TimestampMixin, db.Model):
    __tablename__ = "group"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short name used in URLs and QR codes, e.g. ``uk``.
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: IANA time zone name, e.g. ``Europe/London``.
    timezone: Mapped[str] = mapped_column(sa.String(64))
    #: ISO 4217 code, e.g. ``GBP``.
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: Language of the group's public pages, e.g. ``en`` or ``fr``.
    language: Mapped[str] = mapped_column(sa.String(10))
    #: Replaced whenever the group's titles, prices or subscription offers change (see
    #: ``stock.models``), so the copy of the catalogue the sale screen keeps in memory knows when
    #: it is out of date (``stock.sale_catalogue``). Random rather than a counter: two databases,
    #: or one emptied and filled again, never give one group the same stamp for two catalogues.
    #: Rows written by hand rather than by the app have an empty stamp, which is never kept.
    catalogue_stamp: Mapped[str] = mapped_column(
        sa.String(32), default=new_catalogue_stamp, server_default=""
    )

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Group {self.slug}>"


class Membership(TimestampMixin, db.Model):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(string_enum(Role, length=20))

    user: Mapped[User] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(back_populates="memberships")


class LoginSession(db.Model):
    """One login on one device, kept on the server so that logging out really ends it.

    The browser holds only a random token (in the signed session cookie and, with "remember me",
    the remember cookie); the row holds its hash. Revoking the row ends that login everywhere a
    copy of the cookie lives.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class Invitation(TimestampMixin, db.Model):
    """An organiser's invitation of an email address into a group, accepted by a single-use link."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[Role] = mapped_column(string_enum(Role, length=20))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[Group] = relationship()
    invited_by: Mapped[User | None] = relationship()


class PasswordReset(TimestampMixin, db.Model):
    """One "forgotten password" request, and the single-use link it emailed, if any.

    Every request writes one row, whether or not the address has an account and whether or not
    an email went out: the answer then costs the same work either way, and the rows count the
    emails sent to an address for the per-account limit. Only an ``emailed`` row of an account
    is a usable link; the others hold the hash of a token nobody was given.
    """

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None when no account has the address.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 of the normalised address asked for, so unknown addresses are not kept in clear.
    email_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: True when the link was emailed; False when there was no account or the limit held it back.
    emailed: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the link was used, or ended by a newer reset or a password change.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()
