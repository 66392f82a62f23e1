"""Demo data drawn from the groups' public pages: loaded by ``flask demo-data``, idempotently."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts import services
from stallapp.accounts.models import Group, Role, User

#: Printed by ``make run`` and listed in README; demo only, never for a real installation.
DEMO_PASSWORD = "stallapp-demo"  # noqa: S105 - published demo credential


@dataclass(frozen=True)
class DemoLogin:
    email: str
    description: str


DEMO_GROUPS = [
    services.GroupSettings(
        name="CWO (UK)", slug="uk", timezone="Europe/London", currency="GBP", language="en"
    ),
    services.GroupSettings(
        name="IWG New York", slug="nyc", timezone="America/New_York", currency="USD", language="en"
    ),
    services.GroupSettings(
        name="Klasbatalo Montréal",
        slug="montreal",
        timezone="America/Toronto",
        currency="CAD",
        language="fr",
    ),
]

DEMO_USERS = [
    # email, name, site admin, {group slug: role}
    ("admin@example.org", "Ada Admin", True, {}),
    (
        "organiser@example.org",
        "Olive Organiser",
        False,
        {"uk": Role.ORGANISER, "nyc": Role.MEMBER},
    ),
    ("member@example.org", "Max Member", False, {"uk": Role.MEMBER}),
    ("nyc.organiser@example.org", "Nia Organiser", False, {"nyc": Role.ORGANISER}),
    ("montreal.organiser@example.org", "Mathieu Organisateur", False, {"montreal": Role.ORGANISER}),
]

DEMO_LOGINS = [
    DemoLogin("admin@example.org", "site admin"),
    DemoLogin("organiser@example.org", "organiser of uk, member of nyc"),
    DemoLogin("member@example.org", "member of uk"),
]


def has_any_user(session: Session) -> bool:
    """Tell whether the database has any account yet (demo data goes into empty ones only)."""
    return session.scalar(sa.select(sa.func.count()).select_from(User)) > 0


def load_demo_data(session: Session) -> None:
    """Create the demo groups, users and memberships that do not exist yet."""
    groups: dict[str, Group] = {}
    for settings in DEMO_GROUPS:
        group = session.scalar(sa.select(Group).where(Group.slug == settings.slug))
        groups[settings.slug] = group or services.create_group(session, settings)
    for email, name, is_admin, roles in DEMO_USERS:
        user = services.find_user_by_email(session, email)
        if user is None:
            user = services.create_user(session, email, name, DEMO_PASSWORD, is_admin=is_admin)
        for slug, role in roles.items():
            if services.membership_of(session, user, groups[slug]) is None:
                services.add_membership(session, user, groups[slug], role)
    session.flush()
