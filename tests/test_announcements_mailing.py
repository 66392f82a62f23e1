"""Organisers write to their group's mailing list: who receives it, its links and headers,
one-click unsubscribe, its counts, and the registrations it brings."""

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from stallapp.announcements import services
from stallapp.announcements.models import Announcement, AnnouncementStatus
from stallapp.contacts import privacy
from stallapp.contacts import services as contacts
from stallapp.contacts.models import Contact
from stallapp.events.models import Registration
from stallapp.extensions import db as _db
from stallapp.outbox import services as outbox
from stallapp.outbox.models import OutgoingMessage
from stallapp.outbox.transport import PermanentFailure, Transport
from stallapp.reports import event_report
from tests.builders import add_event, add_meeting
from tests.conftest import PASSWORD, path_of


def subscriber(db, group, email, *, confirm=True, unsubscribe=False) -> Contact:
    signed_up = contacts.sign_up(
        db.session, group, email=email, name="", consent_text="Yes, email me."
    )
    if confirm:
        contacts.confirm_mailing(db.session, signed_up.confirmation_token)
    if unsubscribe:
        contacts.unsubscribe(db.session, signed_up.contact.unsubscribe_token)
    db.session.commit()
    return signed_up.contact


@pytest.fixture
def world(db, make_group, make_user):
    group = make_group(slug="cwo")
    other = make_group(slug="other")
    organiser = make_user(email="olive@example.org", groups={group: "organiser"})
    member = make_user(email="max@example.org", groups={group: "member"})
    outsider = make_user(email="otto@example.org", groups={other: "organiser"})
    subscriber(db, group, "ann@example.org")
    subscriber(db, group, "bea@example.org")
    subscriber(db, group, "unconfirmed@example.org", confirm=False)
    subscriber(db, group, "left@example.org", unsubscribe=True)
    subscriber(db, group, "forgotten@example.org")
    privacy.erase_address(db.session, group, "forgotten@example.org")
    subscriber(db, other, "elsewhere@example.org")
    db.session.commit()
    return {
        "group": group,
        "organiser": organiser,
        "member": member,
        "outsider": outsider,
        "event": add_meeting(db, group, capacity=10, title="Reading group"),
    }


def client_for(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def write(client, group, **fields) -> str:
    data = {"subject": "Our next meeting", "body": "Hello all.", "event_id": "0"} | fields
    response = client.post(f"/groups/{group.slug}/announcements/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return path_of(response.headers["Location"])


def announcement_mail(mail) -> list:
    return [message for message in mail if message.purpose == "announcement"]


def test_an_organiser_writes_previews_tests_and_sends(app, db, world, mail):
    organiser = client_for(app, world["organiser"])
    group, event = world["group"], world["event"]
    page = organiser.get(f"/groups/{group.slug}/announcements/new?event_id={event.id}")
    assert "Reading group" in page.get_data(as_text=True), "pre-filled from the event"
    detail = write(organiser, group, event_id=str(event.id), reply_to="olive@example.org")

    preview = organiser.get(detail).get_data(as_text=True)
    assert "Hello all." in preview
    assert "Reading group" in preview
    assert "Peculier Pub" in preview, "the event's place"
    assert "Send to 2 subscribers" in preview

    organiser.post(detail + "/test")
    [test] = list(mail)
    assert test.to == "olive@example.org"
    assert test.subject == "[Test] Our next meeting"
    mail.clear()

    response = organiser.post(detail + "/send")
    assert response.status_code == 302
    sent = announcement_mail(mail)
    assert sorted(message.to for message in sent) == ["ann@example.org", "bea@example.org"]
    announcement = db.session.scalar(sa.select(Announcement))
    assert announcement.status == AnnouncementStatus.SENT
    assert announcement.recipient_count == 2
    for message in sent:
        contact = db.session.scalar(sa.select(Contact).where(Contact.email == message.to))
        assert f"/u/{contact.unsubscribe_token}?from={announcement.code}" in message.body
        assert message.headers["List-Unsubscribe"] == (
            f"<http://stall.test/u/{contact.unsubscribe_token}/one-click?from={announcement.code}>"
        )
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.headers["Reply-To"] == "olive@example.org"
        assert f"http://stall.test/e/{event.public_code}?from={announcement.code}" in message.body
        assert "Peculier Pub" in message.body

    again = organiser.post(detail + "/send", follow_redirects=True)
    assert "already been sent" in again.get_data(as_text=True)
    assert len(announcement_mail(mail)) == 2, "sent once"


def test_sending_twice_at_once_sends_once(app, db, world):
    group = world["group"]
    announcement = services.save_draft(
        db.session, group, world["organiser"], services.AnnouncementText("News", "Body")
    )
    db.session.commit()
    assert services.send(db.session, announcement, world["organiser"]) == 2
    with pytest.raises(services.AlreadySent) as raised:
        services.send(db.session, announcement, world["organiser"])
    assert raised.value.code == "already_sent"


def test_an_event_of_another_group_cannot_be_attached(app, db, world, make_group):
    elsewhere = add_event(db, make_group(), title="Not ours")
    with pytest.raises(services.ValidationFailed) as raised:
        services.save_draft(
            db.session,
            world["group"],
            world["organiser"],
            services.AnnouncementText("News", "Body", event_id=elsewhere.id),
        )
    assert raised.value.code == "invalid_event"


def test_nobody_to_send_to(app, db, make_group, make_user):
    group = make_group()
    organiser = make_user(groups={group: "organiser"})
    announcement = services.save_draft(
        db.session, group, organiser, services.AnnouncementText("News", "Body")
    )
    with pytest.raises(services.NobodyToSendTo):
        services.send(db.session, announcement, organiser)


def test_members_cannot_send_and_other_groups_see_nothing(app, db, world, mail):
    group = world["group"]
    detail = write(client_for(app, world["organiser"]), group)
    member = client_for(app, world["member"])
    assert member.get(detail).status_code == 403
    assert member.post(detail + "/send").status_code == 403
    outsider = client_for(app, world["outsider"])
    assert outsider.get(detail).status_code == 404
    assert outsider.post(detail + "/send").status_code == 404
    assert outsider.get(f"/groups/{group.slug}/announcements/").status_code == 404
    assert mail == []


def test_the_event_page_links_to_a_prefilled_announcement(app, world):
    organiser = client_for(app, world["organiser"])
    group, event = world["group"], world["event"]
    page = organiser.get(f"/groups/{group.slug}/events/{event.id}").get_data(as_text=True)
    link = f"/groups/{group.slug}/announcements/new?event_id={event.id}"
    assert link in page.replace("&amp;", "&")
    assert "Announce to the mailing list" in page


def _sent_announcement(db, world) -> Announcement:
    announcement = services.save_draft(
        db.session,
        world["group"],
        world["organiser"],
        services.AnnouncementText("News", "Body", event_id=world["event"].id),
    )
    services.send(db.session, announcement, world["organiser"])
    db.session.commit()
    return announcement


def test_one_click_unsubscribe_needs_no_login_or_csrf_token(app, db, world, mail):
    app.config["WTF_CSRF_ENABLED"] = True
    announcement = _sent_announcement(db, world)
    message = next(m for m in announcement_mail(mail) if m.to == "ann@example.org")
    url = message.headers["List-Unsubscribe"].strip("<>")
    client = app.test_client()
    response = client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.commit()
    contact = db.session.scalar(sa.select(Contact).where(Contact.email == "ann@example.org"))
    assert contact.unsubscribed_at is not None
    db.session.refresh(announcement)
    assert announcement.unsubscribed_count == 1
    client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    db.session.refresh(announcement)
    assert announcement.unsubscribed_count == 1, "counted once"
    assert client.post("/u/no-such-token/one-click").status_code == 404


def test_opening_the_one_click_link_asks_first(app, db, world, mail):
    announcement = _sent_announcement(db, world)
    message = announcement_mail(mail)[0]
    url = message.headers["List-Unsubscribe"].strip("<>")
    response = app.test_client().get(path_of(url))
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path.startswith("/u/") and not target.path.endswith("one-click")
    assert target.query == f"from={announcement.code}"
    db.session.commit()
    assert (
        db.session.scalar(sa.select(Contact.unsubscribed_at).where(Contact.email == message.to))
        is None
    )


class Recorder(Transport):
    def __init__(self, refuse: str = ""):
        super().__init__("s@example.org")
        self.refuse = refuse

    def send(self, message) -> None:
        if message.recipient == self.refuse:
            raise PermanentFailure("550 no such user")


def test_the_counts_follow_delivery(app, db, world):
    announcement = _sent_announcement(db, world)
    settings = outbox.DeliverySettings.from_config(app.config)
    outbox.deliver_all_due(_db.engine, Recorder(refuse="bea@example.org"), settings)
    db.session.refresh(announcement)
    assert (announcement.recipient_count, announcement.delivered_count) == (2, 1)
    assert announcement.failed_count == 1
    organiser = client_for(app, world["organiser"])
    page = organiser.get(f"/groups/{world['group'].slug}/announcements/").get_data(as_text=True)
    assert "delivered 1" in page and "failed 1" in page


def test_registrations_from_the_announcement_are_counted_in_the_event_report(app, db, world, mail):
    announcement = _sent_announcement(db, world)
    event = world["event"]
    link = re.search(r"http://stall\.test/e/\S+", announcement_mail(mail)[0].body).group(0)
    form = {"name": "Ann", "email": "ann@example.org", "consent": "y"}
    assert app.test_client().post(path_of(link), data=form).status_code == 200
    # A registration without the announcement's link, and one with a forged code.
    app.test_client().post(f"/e/{event.public_code}", data=form | {"email": "z@example.org"})
    app.test_client().post(
        f"/e/{event.public_code}?from=forged", data=form | {"email": "y@example.org"}
    )
    db.session.commit()
    sources = dict(
        db.session.execute(sa.select(Registration.email, Registration.source_announcement_id)).all()
    )
    assert sources == {
        "ann@example.org": announcement.id,
        "z@example.org": None,
        "y@example.org": None,
    }
    outreach = event_report.outreach(db.session, event)
    assert outreach.registrations == 3
    assert outreach.registrations_from_announcements == 1


def test_forgetting_an_address_deletes_its_mail(app, db, world, mail):
    _sent_announcement(db, world)
    assert "ann@example.org" in [message.to for message in mail]
    privacy.erase_address(db.session, world["group"], "ann@example.org")
    db.session.commit()
    recipients = db.session.scalars(sa.select(OutgoingMessage.recipient)).all()
    assert "ann@example.org" not in recipients
    assert "bea@example.org" in recipients
