"""The demo's events: the seed's stalls and meetings, placed relative to the day of loading."""

from datetime import time, timedelta

import sqlalchemy as sa

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.events.models import Event, EventSeries, EventStatus, Registration
from stallapp.times import utc_to_local


def _events(db, slug):
    return db.session.scalars(
        sa.select(Event).join(Group).where(Group.slug == slug).order_by(Event.starts_at)
    ).all()


def _local(event):
    return utc_to_local(event.starts_at, event.timezone), utc_to_local(
        event.ends_at, event.timezone
    )


def test_demo_events_keep_names_places_and_times(runner, db):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    now = utcnow()
    uk = {event.title: event for event in _events(db, "uk")}
    peterborough = uk["Peterborough Radical Bookfair"]
    assert peterborough.status == EventStatus.PUBLISHED
    assert now < peterborough.starts_at < now + timedelta(weeks=6)
    start, end = _local(peterborough)
    assert (start.time(), end.time(), start.weekday()) == (time(10), time(17), 5)
    assert peterborough.venue_name == "The George Alcock Centre"
    assert "Whittlesey Rd, Stanground, Peterborough" in peterborough.address
    assert peterborough.postcode == "PE2 8QS"
    for title, postcode in (
        ("Sheffield Radical Bookfair", "S2 5QQ"),
        ("Newcastle Ewan Brown Anarchist Bookfair", "NE2 1BB"),
    ):
        assert uk[title].ends_at < now, title
        assert uk[title].postcode == postcode

    nyc = _events(db, "nyc")
    meetings = [event for event in nyc if event.series_id is not None]
    assert {event.title for event in meetings} == {"IWG monthly meeting"}
    (online,) = [event for event in nyc if event.series_id is None]
    assert online.online_url and not online.online_link_public and online.registration_required
    assert any(e.ends_at < now for e in meetings) and any(e.starts_at > now for e in meetings)
    for meeting in meetings:
        start, _ = _local(meeting)
        assert start.time() == time(15, 30)
        assert start.weekday() == 5 and (start + timedelta(days=7)).month != start.month
        assert (meeting.venue_name, meeting.capacity) == ("Peculier Pub", 30)
        assert meeting.registration_required and meeting.series_id is not None
    series = db.session.scalars(sa.select(EventSeries)).one()
    assert series.rule_summary.startswith("Last Saturday of each month")

    (montreal,) = _events(db, "montreal")
    assert montreal.title == "Table outside the anarchist bookfair"
    assert montreal.address.startswith("2515 Rue Delisle") and montreal.postcode == "H3J 1K8"
    assert montreal.starts_at > now


def test_demo_events_are_loaded_once(runner, db):
    def counts():
        return [
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Event, EventSeries, Registration)
        ]

    assert runner.invoke(args=["demo-data"]).exit_code == 0
    first = counts()
    assert first[0] > 5 and first[2] > 0
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert counts() == first


def test_demo_pages_answer(runner, client, db):
    runner.invoke(args=["demo-data"])
    for slug in ("uk", "nyc", "montreal"):
        assert client.get(f"/g/{slug}").status_code == 200
        assert client.get(f"/g/{slug}/events.ics").status_code == 200
    page = client.get("/g/uk").get_data(as_text=True)
    assert "Peterborough Radical Bookfair" in page and "Sheffield" not in page
