"""Every member and organiser page runs as many SQL statements for a big group as for a small
one: the walk covers each GET route of ``url_map`` that needs a login, with the benchmark's
data set (``bench/dataset.py``) loaded at two sizes.

A page that loads a relationship per row (an N+1) shows up here as a count that grows with the
events, titles, members or sale lines. Report pages at the full 100,000 lines are
``tests/test_reports_scale.py``'s business; here two modest sizes keep the walk fast.
"""

from datetime import timedelta

import sqlalchemy as sa

from bench.dataset import load_history
from stallapp.announcements.services import AnnouncementText, save_draft
from stallapp.contacts.services import receive_message
from stallapp.database import utcnow
from stallapp.events.models import Event
from stallapp.permissions import PERMISSION_ATTRIBUTE, PUBLIC_ENDPOINTS
from stallapp.qr.models import QrPurpose
from stallapp.qr.services import create_qr_code
from stallapp.rota import cover as rota_services
from stallapp.rota.models import Assignment, Shift
from stallapp.stock.models import SubscriptionOffer
from tests.conftest import PASSWORD

#: Both sizes have at least one of everything a page lists, so a count differs only when the
#: statements grow with the rows. The data spans a year around now: half the events are to come.
SMALL = {"events": 12, "titles": 12, "lines": 120, "members": 3}
BIG = {"events": 60, "titles": 80, "lines": 3_000, "members": 25}
#: Pages for every signed-in person, or for a group's members and organisers.
WALKED = {"login", "group:member", "group:organiser"}


def _build(db, make_group, make_user, slug: str, sizes: dict) -> tuple[object, dict]:
    """Load a group's history and the few rows the remaining pages take an id of."""
    group = make_group(slug=slug)
    organiser = make_user(email=f"organiser@{slug}.example.org", groups={group: "organiser"})
    history = load_history(
        db.session, group, organiser, now=utcnow() + timedelta(days=180), **sizes
    )
    db.session.commit()
    now = utcnow()
    event = db.session.scalar(
        sa.select(Event)
        .where(Event.group_id == group.id, Event.starts_at < now)
        .order_by(Event.starts_at.desc())
        .limit(1)
    )
    # A shift still to come: only those can be offered for cover.
    shift = db.session.scalar(
        sa.select(Shift)
        .where(Shift.group_id == group.id, Shift.starts_at > now)
        .order_by(Shift.starts_at)
        .limit(1)
    )
    assignment = db.session.scalar(
        sa.select(Assignment).where(Assignment.shift_id == shift.id).limit(1)
    )
    cover, _created = rota_services.ask_for_cover(db.session, assignment, "")
    qr_code = create_qr_code(db.session, group, QrPurpose.JOIN, "table card")
    message = receive_message(
        db.session, group, email="visitor@example.org", name="Visitor", body="Hello"
    ).message
    announcement = save_draft(
        db.session, group, organiser, AnnouncementText(subject="News", body="Hello")
    )
    offer = db.session.scalar(
        sa.select(SubscriptionOffer).where(SubscriptionOffer.group_id == group.id)
    )
    db.session.commit()
    arguments = {
        "group_slug": group.slug,
        "event_id": event.id,
        "shift_id": shift.id,
        "cover_request_id": cover.id,
        "qr_code_id": qr_code.id,
        "paper": "a6",
        "message_id": message.id,
        "announcement_id": announcement.id,
        "publication_id": history.publication_ids[0],
        "store_id": history.store_ids[0],
        "offer_id": offer.id,
        "table": "titles",
    }
    return organiser, arguments


def _walked_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if getattr(view, PERMISSION_ATTRIBUTE, None) in WALKED:
            yield rule


def _counts(app, client, count_statements, arguments: dict, statements: dict) -> dict:
    """Return ``{route: (status, statements)}`` for every walked route, cache warmed first;
    fill ``statements`` with each route's SQL, for the failure message."""
    from flask import url_for

    counts = {}
    for rule in _walked_rules(app):
        missing = set(rule.arguments) - set(arguments)
        assert not missing, f"{rule.rule}: teach this test a value for {missing}"
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
        client.get(url)  # the first request compiles templates and fills caches
        with count_statements() as counter:
            response = client.get(url)
        counts[rule.rule] = (response.status_code, counter.count)
        statements[rule.rule] = counter.statements
    return counts


def test_no_page_runs_more_statements_for_more_data(
    app, db, make_group, make_user, count_statements
):
    small_organiser, small = _build(db, make_group, make_user, "small", SMALL)
    big_organiser, big = _build(db, make_group, make_user, "big", BIG)
    counts, statements = {}, {}
    for name, organiser, arguments in (
        ("small", small_organiser, small),
        ("big", big_organiser, big),
    ):
        client = app.test_client()
        response = client.post("/login", data={"email": organiser.email, "password": PASSWORD})
        assert response.status_code == 302
        statements[name] = {}
        counts[name] = _counts(app, client, count_statements, arguments, statements[name])

    assert len(counts["big"]) > 50, "the walk found too few pages"
    failed = {status for status, _count in counts["big"].values()} - {200, 302}
    assert not failed, {url: found for url, found in counts["big"].items() if found[0] >= 400}
    grown = {
        url: (counts["small"][url], found)
        for url, found in counts["big"].items()
        if found != counts["small"][url]
    }
    assert grown == {}, "statements (status, count) grew with the data: small → big\n" + "\n".join(
        f"{url}:\n  " + "\n  ".join(" ".join(sql.split())[:160] for sql in statements["big"][url])
        for url in grown
    )
