"""Account rules: logging in, login sessions, invitations, password resets, groups and roles.

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, contains_eager

from stallapp.accounts import throttle
from stallapp.accounts.models import (
    Group,
    Invitation,
    LoginSession,
    Membership,
    PasswordReset,
    Role,
    User,
)
from stallapp.accounts.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from stallapp.database import utcnow
from stallapp.errors import InvalidToken, NotAllowed, StallError, ValidationFailed
from stallapp.money import is_valid_currency
from stallapp.text import normalise_email
from stallapp.times import is_valid_timezone
from stallapp.tokens import hash_token, new_token


class LoginFailed(StallError):
    code = "login_failed"


class TooManyAttempts(StallError):
    code = "too_many_attempts"


class LastOrganiser(StallError):
    code = "last_organiser"


class InvitationNeedsLogin(StallError):
    """The invited address has an account: only that account, logged in, may accept."""

    code = "invitation_needs_login"


class InvitationForAnotherAccount(NotAllowed):
    code = "invitation_for_another_account"


def find_user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this address, or None."""
    return session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session, email: str, name: str, password: str, *, is_admin: bool = False
) -> User:
    """Create an account.

    :raises ValidationFailed: when the password breaks the rules or the email is taken.
    """
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, code="weak_password")
    if find_user_by_email(session, email):
        raise ValidationFailed(_("An account with this email already exists."), code="email_taken")
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """Return the enabled user with this email and password.

    Unknown addresses and disabled accounts fail exactly like a wrong password, after the same
    amount of hashing work, so neither the answer nor its timing tells who has an account.
    A hash made with older parameters is upgraded on the way.

    :raises LoginFailed: whatever the reason.
    """
    user = find_user_by_email(session, email)
    if user is None:
        burn_verification_time(password)
        raise LoginFailed(_("Wrong email or password."))
    if not verify_password(user.password_hash, password) or not user.is_enabled:
        raise LoginFailed(_("Wrong email or password."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_login(session: Session, email: str, password: str, *, address: str) -> User:
    """Check a login from the client ``address``, within the failed-login limits.

    An address that failed too often for this account, or for all accounts, is refused before
    any work. Otherwise the account's slow-down pause comes first (it grows with the account's
    recent failures from anywhere, and is capped), then the password check: the owner is slowed
    down while someone keeps guessing, never refused. The caller counts a failure with
    :func:`record_failed_login` once it has answered with the failed-login page.

    :raises TooManyAttempts: when a hard limit for ``address`` is reached.
    :raises LoginFailed: whatever the reason.
    """
    email = normalise_email(email)
    if throttle.address_is_blocked(email, address):
        raise TooManyAttempts(_("Too many failed logins from here. Please wait a few minutes."))
    delay = throttle.delay_for(throttle.recent_failures(email))
    if delay and throttle.claim_pause(delay):
        throttle.pause(delay)
    return authenticate(session, email, password)


def record_failed_login(email: str, *, address: str) -> None:
    """Count one failed login for the account and the client address (see :func:`check_login`)."""
    throttle.count_failure(normalise_email(email), address)


def start_login_session(session: Session, user: User, *, remember: bool) -> str:
    """Record a new login for ``user`` and return the token the browser keeps."""
    config = current_app.config
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else config["LOGIN_SESSION_LIFETIME"]
    token, token_hash = new_token()
    now = utcnow()
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=token_hash,
            remember=remember,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    user.login_token = token
    return token


def user_for_login_token(session: Session, token: str) -> User | None:
    """Return the user of a live login session, or None when it ended, expired or is unknown.

    The user's memberships come with their groups (``user.memberships``, by group name): the
    permission check and the menu need them on nearly every page, and one statement on every
    signed-in request reads the live session, its enabled user and their groups together.
    """
    user = (
        session.scalars(
            _user_of_login_statement(), {"token_hash": hash_token(token), "now": utcnow()}
        )
        .unique()
        .first()
    )
    if user is None:
        return None
    user.login_token = token
    return user


@cache
def _user_of_login_statement() -> sa.Select:
    # Built once: every signed-in request runs it.
    return (
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .outerjoin(User.memberships)
        .outerjoin(Membership.group)
        .options(contains_eager(User.memberships).contains_eager(Membership.group))
        .where(
            LoginSession.token_hash == sa.bindparam("token_hash"),
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > sa.bindparam("now"),
            User.is_enabled.is_(True),
        )
        .order_by(Group.name, Group.id)
    )


def end_login_session(session: Session, token: str) -> None:
    """End one login session (logging out)."""
    session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token_hash == hash_token(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_all_login_sessions(session: Session, user: User, *, keep_token: str | None = None) -> None:
    """End every login session of ``user``, except the one holding ``keep_token``."""
    statement = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    if keep_token:
        statement = statement.where(LoginSession.token_hash != hash_token(keep_token))
    session.execute(statement.values(revoked_at=utcnow()))


def change_password(session: Session, user: User, current_password: str, new_password: str) -> None:
    """Set a new password and end the user's other login sessions.

    :raises ValidationFailed: code ``wrong_password`` or ``weak_password``.
    """
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed(_("Your current password is not right."), code="wrong_password")
    problem = password_problem(new_password)
    if problem:
        raise ValidationFailed(problem, code="weak_password")
    user.password_hash = hash_password(new_password)
    end_all_login_sessions(session, user, keep_token=user.login_token)
    end_password_resets(session, user)


def set_user_enabled(
    session: Session, user: User, enabled: bool, *, by: User | None = None
) -> None:
    """Enable or disable an account; disabling ends all its login sessions and reset links.

    ``by`` is the admin acting (None for a command): nobody disables their own account, which
    could leave the site with no admin able to log in.

    :raises NotAllowed: code ``disable_yourself`` when ``by`` disables their own account.
    """
    if not enabled and by is not None and by.id == user.id:
        raise NotAllowed(_("You cannot disable your own account."), "disable_yourself")
    user.is_enabled = enabled
    if not enabled:
        end_all_login_sessions(session, user)
        end_password_resets(session, user)


# Password reset


def request_password_reset(session: Session, email: str) -> tuple[User, str] | None:
    """Record a request for a reset link; return the account and the token to email, or None.

    None when no enabled account has the address, or when the address's email limit holds the
    link back: at most one email per ``PASSWORD_RESET_EMAIL_INTERVAL`` and
    ``PASSWORD_RESET_EMAILS_PER_HOUR`` an hour. Every path runs the same statements (read the
    account, count the recent emails, write one request row with a fresh token hash) and the
    same hashing, so neither the answer nor its cost tells whether the address has an account.
    The account's row is locked, so two requests at once cannot both pass the limit.
    """
    config = current_app.config
    address = normalise_email(email)
    email_hash = hash_token(address)
    user = session.scalar(sa.select(User).where(User.email == address).with_for_update())
    now = utcnow()
    emailed_count, last_emailed_at = session.execute(
        sa.select(sa.func.count(), sa.func.max(PasswordReset.created_at)).where(
            PasswordReset.email_hash == email_hash,
            PasswordReset.emailed.is_(True),
            PasswordReset.created_at > now - timedelta(hours=1),
        )
    ).one()
    token, token_hash = new_token()
    within_limit = emailed_count < config["PASSWORD_RESET_EMAILS_PER_HOUR"] and (
        last_emailed_at is None or last_emailed_at <= now - config["PASSWORD_RESET_EMAIL_INTERVAL"]
    )
    send = user is not None and user.is_enabled and within_limit
    session.add(
        PasswordReset(
            user_id=user.id if user is not None else None,
            email_hash=email_hash,
            token_hash=token_hash,
            emailed=send,
            created_at=now,
            expires_at=now + config["PASSWORD_RESET_LIFETIME"],
        )
    )
    session.flush()
    return (user, token) if send else None


def end_password_resets(session: Session, user: User) -> None:
    """End every reset link of ``user`` that is still outstanding."""
    session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )


def purge_password_resets(session: Session) -> int:
    """Delete the reset requests that neither work as a link nor count for the email limit any
    more, and return how many went: the hashes of addresses are kept no longer than needed.
    """
    kept_for = max(current_app.config["PASSWORD_RESET_LIFETIME"], timedelta(hours=1))
    deleted = session.execute(
        sa.delete(PasswordReset).where(PasswordReset.created_at < utcnow() - kept_for)
    )
    return deleted.rowcount


def _live_reset(session: Session, token: str, *, lock: bool = False) -> PasswordReset:
    statement = sa.select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    if lock:
        statement = statement.with_for_update()
    reset = session.scalar(statement)
    # Only an emailed row of an account is a link; the others' tokens were never given out.
    if reset is None or reset.user_id is None or not reset.emailed:
        raise InvalidToken()
    if reset.used_at is not None or reset.expires_at <= utcnow():
        raise InvalidToken()
    return reset


def check_password_reset(session: Session, token: str) -> User:
    """Return the user a reset link is for.

    :raises InvalidToken: when the link is unknown, used, ended or expired.
    """
    return _live_reset(session, token).user


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Use a reset link to set a new password; ends every login session of the account and
    every other reset link.

    :raises InvalidToken: when the link is unknown, used, ended or expired.
    :raises ValidationFailed: when the new password breaks the rules.
    """
    reset = _live_reset(session, token, lock=True)
    problem = password_problem(new_password)
    if problem:
        raise ValidationFailed(problem, code="weak_password")
    used = session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise InvalidToken()
    user = reset.user
    user.password_hash = hash_password(new_password)
    end_all_login_sessions(session, user)
    end_password_resets(session, user)
    return user


# Groups, memberships and invitations


@dataclass(frozen=True)
class GroupSettings:
    name: str
    slug: str
    timezone: str
    currency: str
    language: str


def create_group(session: Session, settings: GroupSettings) -> Group:
    """Create a group.

    :raises ValidationFailed: codes ``slug_taken``, ``bad_timezone``, ``bad_currency``.
    """
    if not is_valid_timezone(settings.timezone):
        raise ValidationFailed(_("Unknown time zone."), code="bad_timezone")
    if not is_valid_currency(settings.currency):
        raise ValidationFailed(_("Unknown currency code."), code="bad_currency")
    if session.scalar(sa.select(Group.id).where(Group.slug == settings.slug)):
        raise ValidationFailed(_("This short name is already used."), code="slug_taken")
    group = Group(
        name=settings.name.strip(),
        slug=settings.slug,
        timezone=settings.timezone,
        currency=settings.currency,
        language=settings.language,
    )
    session.add(group)
    session.flush()
    return group


def membership_of(session: Session, user: User, group: Group) -> Membership | None:
    """Return ``user``'s membership of ``group``, or None."""
    return session.scalar(
        sa.select(Membership).where(Membership.user_id == user.id, Membership.group_id == group.id)
    )


def organises(session: Session, user: User, group: Group) -> bool:
    """Tell whether ``user`` is an organiser of ``group``."""
    membership = membership_of(session, user, group)
    return membership is not None and membership.role == Role.ORGANISER


def groups_of(session: Session, user: User) -> list[tuple[Group, Role]]:
    """Return the user's groups with their role in each, by group name."""
    rows = session.execute(
        sa.select(Group, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id)
        .order_by(Group.name)
    )
    return [(group, role) for group, role in rows]


def add_membership(session: Session, user: User, group: Group, role: Role) -> Membership:
    """Put ``user`` in ``group`` with ``role``; an existing membership is raised, never lowered."""
    membership = membership_of(session, user, group)
    if membership is None:
        membership = Membership(user=user, group=group, role=role)
        session.add(membership)
    elif role.allows(membership.role) and role != membership.role:
        membership.role = role
    session.flush()
    return membership


def members_of(session: Session, group: Group) -> list[Membership]:
    """Return the group's memberships with their users, organisers first, then by name."""
    return list(
        session.scalars(
            sa.select(Membership)
            .join(User)
            .where(Membership.group_id == group.id)
            .order_by(Membership.role.desc(), User.name)
            .options(sa.orm.contains_eager(Membership.user))
        )
    )


def _organiser_count(session: Session, group: Group) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.group_id == group.id, Membership.role == Role.ORGANISER)
    )


def change_role(session: Session, membership: Membership, role: Role) -> None:
    """Change a member's role in a group.

    :raises LastOrganiser: when that would leave the group without an organiser.
    """
    stepping_down = membership.role == Role.ORGANISER and role != Role.ORGANISER
    if stepping_down and _organiser_count(session, membership.group) <= 1:
        raise LastOrganiser(_("A group needs at least one organiser."))
    membership.role = role
    session.flush()


def remove_member(session: Session, membership: Membership) -> None:
    """Take a member out of a group.

    :raises LastOrganiser: when they are the group's only organiser.
    """
    if membership.role == Role.ORGANISER and _organiser_count(session, membership.group) <= 1:
        raise LastOrganiser(_("A group needs at least one organiser."))
    session.delete(membership)
    session.flush()


def invite(
    session: Session, group: Group, email: str, role: Role, invited_by: User | None
) -> tuple[Invitation, str]:
    """Create an invitation into ``group`` and return it with the token for its link."""
    token, token_hash = new_token()
    invitation = Invitation(
        group=group,
        email=normalise_email(email),
        role=role,
        invited_by=invited_by,
        token_hash=token_hash,
        expires_at=utcnow() + current_app.config["INVITATION_LIFETIME"],
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def pending_invitations(session: Session, group: Group) -> list[Invitation]:
    """Return the group's invitations that can still be accepted, newest first."""
    return list(
        session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.group_id == group.id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def live_invitation(session: Session, token: str) -> Invitation:
    """Return the invitation a link is for.

    :raises InvalidToken: when it is unknown, accepted already or expired.
    """
    invitation = session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    if invitation is None or invitation.accepted_at is not None:
        raise InvalidToken()
    if invitation.expires_at <= utcnow():
        raise InvalidToken()
    return invitation


def accept_invitation(
    session: Session,
    token: str,
    *,
    actor: User | None = None,
    name: str | None = None,
    password: str | None = None,
) -> User:
    """Accept an invitation as ``actor`` (the logged-in user, or None).

    For an address with no account, holding the link proves the address: the account is
    created with ``name`` and ``password``. For an address that has an account, the link alone
    proves nothing more than that someone saw it (a forwarded email, a shared screen): only that
    account, logged in with its own password, may accept, and the membership is all it gains.

    :raises InvalidToken: when the link is unknown, used or expired.
    :raises InvitationNeedsLogin: when the address has an account and nobody is logged in.
    :raises InvitationForAnotherAccount: when the address has an account and ``actor`` is
        another one.
    :raises ValidationFailed: when a new account's name or password is missing or too weak.
    """
    invitation = live_invitation(session, token)
    user = find_user_by_email(session, invitation.email)
    if user is not None and actor is None:
        raise InvitationNeedsLogin(
            _("This invitation is for an existing account: log in with it to accept.")
        )
    if user is not None and actor.id != user.id:
        raise InvitationForAnotherAccount(
            _("This invitation is for another account: log in with that one to accept.")
        )
    claimed = session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise InvalidToken()
    if user is None:
        if not name or not name.strip():
            raise ValidationFailed(_("Please give your name."), code="name_missing")
        user = create_user(session, invitation.email, name, password or "")
    add_membership(session, user, invitation.group, invitation.role)
    return user
