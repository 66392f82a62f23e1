"""The network's public pages: every listed group's coming events and publications, and their
settings (a group opts in; an admin names the site)."""

import re
from datetime import datetime, timedelta

import pytest

from stallapp.database import utcnow
from stallapp.events.models import EventKind
from stallapp.network import services
from stallapp.stock import services as stock
from stallapp.stock.models import PublicationKind
from stallapp.times import utc_to_local
from tests.builders import add_event


def _next_saturday(group, hour):
    today = utc_to_local(utcnow(), group.timezone).date()
    day = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    return datetime.combine(day, datetime.min.time()).replace(hour=hour)


@pytest.fixture
def network(db, make_group):
    """Three groups in three zones and languages, two of them listed, with events and titles."""
    uk = make_group(slug="uk", name="CWO", timezone="Europe/London", currency="GBP")
    italia = make_group(
        slug="italia", name="PCInt", timezone="Europe/Rome", currency="EUR", language="it"
    )
    hidden = make_group(slug="hidden", name="Not listed")
    for group in (uk, italia):
        services.save_public_page_settings(
            db.session, group, listed_on_network=True, embed_origins=""
        )
    services.save_public_page_settings(
        db.session, hidden, listed_on_network=False, embed_origins=""
    )
    db.session.commit()
    events = {
        "stall": add_event(
            db,
            uk,
            kind=EventKind.STALL,
            title="Peterborough Radical Bookfair",
            start=_next_saturday(uk, 10),
            hours=7,
            venue_name="The George Alcock Centre",
            address="Whittlesey Rd, Peterborough",
            postcode="PE2 8QS",
        ),
        "riunione": add_event(
            db,
            italia,
            title="Riunione pubblica",
            start=_next_saturday(italia, 15) + timedelta(days=1),
            venue_name="Circolo",
            address="Via Roma 1, Milano",
            postcode="20121",
        ),
        "online": add_event(
            db,
            italia,
            kind=EventKind.ONLINE_MEETING,
            title="Riunione online",
            start=_next_saturday(italia, 18) + timedelta(days=2),
            venue_name="",
            address="",
            postcode="",
            online_url="https://meet.example.org/secret-room",
            registration_required=True,
        ),
        "draft": add_event(db, uk, publish=False, title="Secret draft"),
        "past": add_event(db, uk, title="Last year's fair", start=datetime(2024, 10, 19, 10)),
        "hidden": add_event(db, hidden, title="Hidden group's meeting"),
    }
    book = stock.create_publication(
        db.session,
        uk,
        stock.PublicationData(
            title="1917",
            kind=PublicationKind.BOOK,
            language="en",
            prices={"GBP": 1200, "EUR": 2000, "USD": 2700},
        ),
    )
    leaflet = stock.create_publication(
        db.session,
        italia,
        stock.PublicationData(
            title="Volantino sulla Palestina",
            kind=PublicationKind.LEAFLET,
            language="it",
            is_free=True,
        ),
    )
    db.session.commit()
    return {
        "uk": uk,
        "italia": italia,
        "hidden": hidden,
        "book": book,
        "leaflet": leaflet,
        **events,
    }


def test_network_page_lists_the_listed_groups_coming_events(client, network):
    response = client.get("/events", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    for shown in ("Peterborough Radical Bookfair", "Riunione pubblica", "Riunione online"):
        assert shown in page
    for hidden in ("Secret draft", "Last year", "Hidden group"):
        assert hidden not in page
    assert page.index("Peterborough Radical Bookfair") < page.index("Riunione pubblica")
    assert "https://meet.example.org/secret-room" not in page
    # In the Italian group's own language, as the rest of its event.
    assert "Online — il link viene inviato a chi si iscrive" in page


def test_each_event_is_in_its_own_zone_and_language(client, network):
    page = client.get("/events", headers={"Accept-Language": "en"}).get_data(as_text=True)
    stall = re.search(r'<li class="card event-card" lang="en-GB">.*?</li>', page, re.S).group(0)
    assert "Saturday" in stall and "10:00–17:00" in stall
    assert "British Time" in stall or "United Kingdom Time" in stall
    riunione = re.search(r'<li class="card event-card" lang="it">.*?</li>', page, re.S).group(0)
    assert "domenica" in riunione and "15:00–17:00" in riunione, "Italian words, its own zone"
    assert "Ora Italia" in riunione or "Ora dell’Europa centrale" in riunione


def test_network_page_groups_by_group_and_filters(client, network):
    by_group = client.get("/events?by=group").get_data(as_text=True)
    headings = re.findall(r"<h2[^>]*><a href=\"/g/(\w+)\">", by_group)
    assert headings == ["uk", "italia"], "by group name: CWO, PCInt"
    only_italy = client.get("/events?group=italia").get_data(as_text=True)
    assert "Riunione pubblica" in only_italy and "Peterborough" not in only_italy
    stalls = client.get("/events?kind=stalls").get_data(as_text=True)
    assert "Peterborough" in stalls and "Riunione" not in stalls
    meetings = client.get("/events?kind=meetings").get_data(as_text=True)
    assert "Riunione pubblica" in meetings and "Riunione online" not in meetings
    online = client.get("/events?kind=online").get_data(as_text=True)
    assert "Riunione online" in online and "Riunione pubblica" not in online
    unknown = client.get("/events?group=hidden&kind=nonsense&by=colour")
    assert unknown.status_code == 200
    assert "Hidden group" not in unknown.get_data(as_text=True), "an unlisted group stays out"


def test_network_page_title_and_intro_are_admin_settings(client, network, make_user, login_as):
    assert "<h1>Coming events</h1>" in client.get("/events").get_data(as_text=True)
    admin = make_user(is_admin=True)
    login_as(admin)
    response = client.post(
        "/admin/network",
        data={"name": "ICT stalls and meetings", "intro": "Come and talk to us.\nAll welcome."},
    )
    assert response.status_code == 302
    client.post("/logout")
    page = client.get("/events").get_data(as_text=True)
    assert "<h1>ICT stalls and meetings</h1>" in page
    assert "Come and talk to us.<br>" in page
    assert "<h1>ICT stalls and meetings</h1>" in client.get("/publications").get_data(as_text=True)


def test_publications_side_by_side_with_every_price(client, network):
    response = client.get("/publications", headers={"Accept-Language": "en-GB"})
    assert response.headers["Cache-Control"] == "public, max-age=300"
    page = response.get_data(as_text=True)
    assert page.index(">CWO<") < page.index(">PCInt<")
    assert "£12.00" in page and "€20.00" in page and "$27.00" in page
    assert "Volantino sulla Palestina" in page and "Free" in page
    assert "Not listed" not in page


def test_an_organiser_lists_the_group_and_the_sites_that_may_frame_it(
    client, db, make_group, make_user, login_as
):
    group = make_group(slug="nyc", name="IWG New York", timezone="America/New_York")
    add_event(db, group, title="Monthly meeting")
    login_as(make_user(groups={group: "organiser"}))
    assert "Monthly meeting" not in client.get("/events").get_data(as_text=True)
    page = client.get("/groups/nyc/public-pages").get_data(as_text=True)
    assert "http://stall.test/g/nyc/embed/events" in page
    assert '&lt;iframe src="http://stall.test/g/nyc/embed/events"' in page
    assert "Monthly meeting" in page, "the plain HTML snippet holds the coming events"
    response = client.post(
        "/groups/nyc/public-pages",
        data={"listed_on_network": "y", "embed_origins": "https://iwg.example.org/path"},
    )
    assert response.status_code == 200
    assert "is not a web site&#39;s address" in response.get_data(as_text=True)
    assert services.public_page_settings(db.session, group) is None
    response = client.post(
        "/groups/nyc/public-pages",
        data={
            "listed_on_network": "y",
            "embed_origins": "https://IWG.example.org/\nhttp://localhost:8080, https://*.example.net",
        },
    )
    assert response.status_code == 302
    settings = services.public_page_settings(db.session, group)
    assert settings.listed_on_network
    assert settings.origins == [
        "https://iwg.example.org",
        "http://localhost:8080",
        "https://*.example.net",
    ]
    client.post("/logout")
    assert "Monthly meeting" in client.get("/events").get_data(as_text=True)


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org; script-src *",
        "javascript:alert(1)",
        "https://example.org/page",
        "'self'",
        "example.org",
        "https://exa mple.org",
        "https://example.org:99999",
        "https://example.org?x=1",
    ],
)
def test_origins_that_would_break_the_header_are_refused(db, make_group, text):
    with pytest.raises(services.OriginRefused) as refused:
        services.save_public_page_settings(
            db.session, make_group(), listed_on_network=False, embed_origins=text
        )
    assert refused.value.code == "bad_origin"


def test_at_most_twenty_framing_sites(db, make_group):
    many = " ".join(f"https://site{number}.example.org" for number in range(21))
    with pytest.raises(services.OriginRefused) as refused:
        services.parse_origins(many)
    assert refused.value.code == "too_many_origins"


def test_network_page_statements_do_not_grow_with_events(client, db, network, count_statements):
    client.get("/events")
    with count_statements() as few:
        client.get("/events")
    for number in range(10):
        add_event(db, network["uk"], title=f"Stall {number}")
    with count_statements() as many:
        client.get("/events")
    assert many.count == few.count


def test_the_demo_shows_the_four_groups_on_the_network_page(client, db):
    from stallapp.demo import load_demo_data

    load_demo_data(db.session)
    db.session.commit()
    page = client.get("/events?by=group").get_data(as_text=True)
    headings = re.findall(r"<h2[^>]*><a href=\"/g/([\w-]+)\">", page)
    assert sorted(headings) == ["italia", "montreal", "nyc", "uk"]
    assert "Volantinaggio alla manifestazione per la Palestina" in page
    assert "sabato" in page, "the Italian group's event in Italian"
    publications = client.get("/publications").get_data(as_text=True)
    assert "Volantino sulla Palestina" in publications and "Leaflet on Palestine" in publications
    assert "<h1>Internationalist Communist Tendency</h1>" in page
