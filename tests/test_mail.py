"""Email delivery over SMTP happens after the response, so it never shows in response times."""

import pytest

from stallapp import mail


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def smtp_log(app, monkeypatch):
    app.config["MAIL_SERVER"] = "smtp.invalid"
    delivered = []
    monkeypatch.setattr(mail, "_deliver", lambda config, message: delivered.append(message))
    return delivered


def test_smtp_delivery_waits_for_the_response_to_close(app, smtp_log, make_user):
    user = make_user(email="olive@example.org")
    client = app.test_client()
    response = client.post("/forgot-password", data={"email": user.email}, buffered=False)
    assert response.status_code == 200
    assert smtp_log == []
    response.close()
    assert [message.to for message in smtp_log] == ["olive@example.org"]


def test_outside_a_request_mail_goes_at_once(app, smtp_log):
    mail.send_email("a@example.org", "Reminder", "Body")
    assert [message.subject for message in smtp_log] == ["Reminder"]
