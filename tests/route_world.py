"""A world of data in which every route of ``url_map`` can be opened: the permission walk, the
translation sweep and the page checks of the security tests use it (as the ``world`` fixture).

A route added later that takes a new URL argument needs a value in ``arguments`` here.
"""

from flask import Flask, url_for

from stallapp.permissions import PERMISSION_ATTRIBUTE, PUBLIC_ENDPOINTS


def build_world(db, make_group, make_user) -> dict:
    """Two groups with one of every row a route takes the id of; the first group's ids are
    ``arguments``, and its organiser, a member and an outsider (organiser elsewhere) come too."""
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
    from stallapp.rota import cover, shifts, unavailability
    from stallapp.rota.models import ShiftRole
    from tests.builders import event_row

    rota_event = event_row(db.session, home)
    home_shift = shifts.add_shift(
        db.session, rota_event, ShiftRole.STAFFING, rota_event.starts_at, rota_event.ends_at
    )
    home_assignment = shifts.sign_up(db.session, home_shift, member)
    home_cover, _ = cover.ask_for_cover(db.session, home_assignment, "")
    home_unavailable = unavailability.mark_unavailable(
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
    from stallapp.sales import operations as sale_operations
    from stallapp.sales import recording as sale_recording
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
    [home_sale_result] = sale_recording.record_operations(
        db.session,
        rota_event,
        sale_recording.Seller(member, Role.MEMBER),
        [
            sale_operations.parse_operation(
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


def url_of(rule, arguments: dict) -> str:
    """Build the rule's URL from ``arguments`` (inside a request context)."""
    wanted = set(rule.arguments) - set(rule.defaults or {})
    missing = wanted - set(arguments)
    assert not missing, f"{rule.rule}: teach this test a value for {missing}"
    return url_for(rule.endpoint, **{name: arguments[name] for name in wanted})


def pages_of(app: Flask, world: dict) -> list[tuple[str, str]]:
    """Return ``(who, url)`` for every GET page, ``who`` being the least one who may open it:
    "public", "organiser" (of the world's group) or "admin"."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        with app.test_request_context():
            url = url_of(rule, world["arguments"])
        required = getattr(app.view_functions[rule.endpoint], PERMISSION_ATTRIBUTE, "")
        if rule.endpoint in PUBLIC_ENDPOINTS:
            who = "public"
        elif required == "admin":
            who = "admin"
        else:
            who = "organiser"
        pages.append((who, url))
    return pages


def client_as(app: Flask, user):
    """Return a test client logged in as ``user`` through the login form."""
    from tests.conftest import PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, "the login failed"
    return client
