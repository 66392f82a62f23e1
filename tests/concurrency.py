"""Requests from several phones at one moment, each on its own thread and app context."""

import threading

from flask.testing import FlaskClient

from tests.conftest import PASSWORD


def db_session_commit() -> None:
    """End the test's own transaction so the requests see what the fixtures wrote."""
    from stallapp.extensions import db

    db.session.commit()


class PhoneClient(FlaskClient):
    """A client whose every request gets its own app context (and so its own DB session),
    usable from any thread."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def logged_in_phone(app, user) -> FlaskClient:
    db_session_commit()
    client = PhoneClient(app)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def run_at_once(jobs) -> list:
    """Start every job at the same moment on its own thread; return their results."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results
