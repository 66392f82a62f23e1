"""Walk every route and check that nobody reaches what their role does not allow.

A route added later must either be listed in ``stallapp.permissions.PUBLIC_ENDPOINTS`` or be
wrapped by a guard; and a URL argument it takes must be known to ``url_arguments`` below.
"""

import pytest

from stallapp.permissions import PERMISSION_ATTRIBUTE, PUBLIC_ENDPOINTS

ALLOWED_FOR_OUTSIDERS = {302, 403, 404, 405}


@pytest.fixture
def world(make_group, make_user, db):
    home = make_group(slug="home")
    other = make_group(slug="other")
    organiser = make_user(groups={home: "organiser"})
    member = make_user(groups={home: "member"})
    outsider = make_user(groups={other: "organiser"})
    from stallapp.accounts.services import membership_of
    from stallapp.qr.models import QrPurpose
    from stallapp.qr.services import create_qr_code

    home_qr_code = create_qr_code(db.session, home, QrPurpose.JOIN, "table card")
    db.session.commit()
    from stallapp.contacts.services import receive_message

    home_message = receive_message(
        db.session, home, email="visitor@example.org", name="Visitor", body="Hello"
    ).message
    db.session.commit()
    from stallapp.rota import services as rota_services
    from stallapp.rota.models import ShiftRole
    from tests.rota_helpers import create_event

    rota_event = create_event(db.session, home)
    home_shift = rota_services.add_shift(
        db.session, rota_event, ShiftRole.STAFFING, rota_event.starts_at, rota_event.ends_at
    )
    home_assignment = rota_services.sign_up(db.session, home_shift, member)
    home_cover, _ = rota_services.ask_for_cover(db.session, home_assignment, "")
    home_unavailable = rota_services.mark_unavailable(
        db.session, member, rota_event.starts_at.date()
    )
    db.session.commit()
    from stallapp.events.models import Registration, RegistrationStatus

    home_registration = Registration(
        event_id=rota_event.id,
        status=RegistrationStatus.REGISTERED,
        name="Registrant",
        email="registrant@example.org",
    )
    db.session.add(home_registration)
    db.session.commit()
    from stallapp.accounts.models import Role
    from stallapp.sales import services as sale_services
    from stallapp.stock import services as stock_services
    from stallapp.stock.models import PublicationKind

    home_publication = stock_services.create_publication(
        db.session,
        home,
        stock_services.PublicationData(
            title="Aurora", kind=PublicationKind.BROADSHEET, language="en", prices={"GBP": 100}
        ),
    )
    home_store = stock_services.create_store(db.session, home, "Spare room")
    home_movement = stock_services.receive(
        db.session, home_store, home_publication, 10, organiser, "print run"
    )
    home_offer = stock_services.save_subscription_offer(
        db.session, home, name="Joint sub", description="", prices={"GBP": 1500}
    )
    [home_sale_result] = sale_services.record_operations(
        db.session,
        rota_event,
        sale_services.Seller(member, Role.MEMBER),
        [
            sale_services.parse_operation(
                {
                    "id": "5b0e4d0c-1111-4c4c-9a9a-000000000001",
                    "type": "sale",
                    "publication_id": home_publication.id,
                },
                "GBP",
            )
        ],
    )
    db.session.commit()
    from stallapp.announcements.services import AnnouncementText, save_draft

    home_announcement = save_draft(
        db.session, home, organiser, AnnouncementText(subject="News", body="Hello")
    )
    db.session.commit()

    return {
        "group": home,
        "organiser": organiser,
        "member": member,
        "outsider": outsider,
        "arguments": {
            "group_slug": home.slug,
            "membership_id": membership_of(db.session, member, home).id,
            "qr_code_id": home_qr_code.id,
            "message_id": home_message.id,
            "event_id": rota_event.id,
            "event_code": rota_event.public_code,
            "registration_id": home_registration.id,
            "publication_id": home_publication.id,
            "store_id": home_store.id,
            "movement_id": home_movement.id,
            "offer_id": home_offer.id,
            "sale_id": home_sale_result["sale_id"],
            "late_sale_id": 1,
            "announcement_id": home_announcement.id,
            "shift_id": home_shift.id,
            "assignment_id": home_assignment.id,
            "cover_request_id": home_cover.id,
            "unavailability_id": home_unavailable.id,
            "paper": "a6",
            "code": home_qr_code.code,
            "user_id": member.id,
            "slug": home.slug,
            "token": "no-such-token",
            "filename": "css/app.css",
            "table": "titles",
        },
    }


def _routes(app):
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        yield rule, methods


def _url(rule, arguments):
    missing = set(rule.arguments) - set(arguments)
    assert not missing, f"{rule.rule}: teach this test a value for {missing}"
    from flask import url_for

    return url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})


def test_every_view_is_public_or_guarded(app):
    unguarded = []
    for rule, _methods in _routes(app):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint not in PUBLIC_ENDPOINTS and not hasattr(view, PERMISSION_ATTRIBUTE):
            unguarded.append(rule.endpoint)
    assert unguarded == []


def test_public_list_names_only_real_endpoints(app):
    assert set(app.view_functions) >= PUBLIC_ENDPOINTS


def _call(client, method, url):
    return client.open(url, method=method, data={})


def test_anonymous_is_sent_to_login(app, world):
    client = app.test_client()
    for rule, methods in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        with app.test_request_context():
            url = _url(rule, world["arguments"])
        for method in methods:
            response = _call(client, method, url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"], (method, url)


def _logged_in_client(app, user):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 302
    return client


def _required(app, rule) -> str:
    return getattr(app.view_functions[rule.endpoint], PERMISSION_ATTRIBUTE)


def test_outsiders_and_low_roles_are_refused(app, world):
    clients = {name: _logged_in_client(app, world[name]) for name in ("outsider", "member")}
    checked = 0
    for rule, methods in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        required = _required(app, rule)
        with app.test_request_context():
            url = _url(rule, world["arguments"])
        refused_to = []
        if required.startswith("group:"):
            refused_to.append("outsider")
        if required in ("group:organiser", "admin"):
            refused_to.append("member")
        for name in refused_to:
            for method in methods:
                response = _call(clients[name], method, url)
                assert response.status_code in ALLOWED_FOR_OUTSIDERS - {302}, (
                    name,
                    method,
                    url,
                    response.status_code,
                )
                checked += 1
        if required.startswith("group:"):
            for method in methods:
                response = _call(clients["outsider"], method, url)
                assert response.status_code == 404, ("outsider must not learn it exists", url)
    assert checked > 0


def test_the_right_role_gets_in(app, world):
    organiser = _logged_in_client(app, world["organiser"])
    member = _logged_in_client(app, world["member"])
    for rule, methods in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in methods:
            continue
        required = _required(app, rule)
        with app.test_request_context():
            url = _url(rule, world["arguments"])
        if required == "group:member":
            assert member.get(url).status_code == 200, url
        if required in ("group:member", "group:organiser", "login"):
            assert organiser.get(url).status_code == 200, url
