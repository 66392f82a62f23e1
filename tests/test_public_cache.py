"""Public answers kept a few seconds for readers without a cookie (stallapp.public_cache): the
same bytes again without running the app, never for anyone with a cookie, forgotten on any
write and when their time is up."""

import pytest

from stallapp import public_cache


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_CACHE_SECONDS": 30}


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand (no test waits for real seconds)."""
    now = [1000.0]
    monkeypatch.setattr(public_cache.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def reader(app):
    """A browser that never holds a cookie."""
    return app.test_client(use_cookies=False)


def rename(db, event, title: str) -> None:
    event.title = title
    db.session.commit()


def test_a_reader_gets_the_kept_page_until_its_time_is_up(db, reader, event, clock):
    url = f"/e/{event.public_code}"
    first = reader.get(url)
    assert first.status_code == 200 and "Peterborough Radical Bookfair" in first.get_data(True)
    rename(db, event, "Renamed bookfair")
    again = reader.get(url)
    # The kept answer, byte for byte: the app did not run.
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "Set-Cookie" not in again.headers
    clock[0] += 31
    assert "Renamed bookfair" in reader.get(url).get_data(as_text=True)


def test_its_etag_is_answered_304_from_memory(db, reader, event, clock):
    url = f"/e/{event.public_code}"
    etag = reader.get(url).headers["ETag"]
    rename(db, event, "Renamed bookfair")
    answer = reader.get(url, headers={"If-None-Match": etag})
    assert answer.status_code == 304
    assert answer.get_data() == b""
    assert answer.headers["ETag"] == etag
    assert "Content-Type" not in answer.headers
    other = reader.get(url, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200 and "Peterborough" in other.get_data(as_text=True)


def test_anyone_with_a_cookie_sees_the_page_as_it_is_now(
    db, reader, client, login_as, organiser, event, clock
):
    url = f"/e/{event.public_code}"
    login_as(organiser)  # a POST: logging in first, as it forgets what was kept
    reader.get(url)
    rename(db, event, "Renamed bookfair")
    assert "Renamed bookfair" in client.get(url).get_data(as_text=True)
    assert "Peterborough" in reader.get(url).get_data(as_text=True)


def test_a_write_forgets_everything_kept(db, app, reader, event, clock):
    url = f"/e/{event.public_code}"
    reader.get(url)
    rename(db, event, "Renamed bookfair")
    reader.post("/logout")
    assert "Renamed bookfair" in reader.get(url).get_data(as_text=True)


def kept_answers(app) -> dict:
    cache = app.wsgi_app.wsgi_app
    assert isinstance(cache, public_cache.PublicAnswerCache)
    return cache.kept


def test_answers_for_one_reader_are_never_kept(db, app, reader, event, clock):
    # Pages that say no-store (forms, logged-in pages), redirects and errors are not kept.
    assert "no-store" in reader.get("/login").headers["Cache-Control"]
    assert reader.get("/groups/uk/reports").status_code == 302
    assert reader.get("/e/no-such-event").status_code == 404
    assert kept_answers(app) == {}
    # Nor is anything asked with a cookie, even a public page.
    reader.get(f"/e/{event.public_code}", headers={"Cookie": "session=anything"})
    assert kept_answers(app) == {}
    reader.get(f"/e/{event.public_code}")
    assert len(kept_answers(app)) == 1


def test_each_encoding_and_language_is_kept_apart(db, reader, event, clock):
    url = f"/e/{event.public_code}"
    plain = reader.get(url)
    zipped = reader.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert plain.headers.get("Content-Encoding") is None
    assert reader.get(url).get_data() == plain.get_data()
    french = reader.get(url, headers={"Accept-Language": "fr"})
    assert french.status_code == 200


def test_off_by_default_under_testing(db, app, reader, event):
    del app.config["PUBLIC_CACHE_SECONDS"]
    assert app.testing
    url = f"/e/{event.public_code}"
    reader.get(url)
    rename(db, event, "Renamed bookfair")
    assert "Renamed bookfair" in reader.get(url).get_data(as_text=True)
    assert kept_answers(app) == {}


def test_keepable_answers():
    public = [("Cache-Control", "public, max-age=300"), ("Content-Length", "10")]
    assert public_cache._keepable("200 OK", public)
    assert not public_cache._keepable("404 NOT FOUND", public)
    assert not public_cache._keepable("200 OK", [*public, ("Set-Cookie", "session=1")])
    assert not public_cache._keepable("200 OK", [("Cache-Control", "no-store")])
    assert not public_cache._keepable("200 OK", [("Cache-Control", "public, private")])
    assert not public_cache._keepable("200 OK", [("Cache-Control", "public")])  # streamed
    assert not public_cache._keepable("200 OK", [*public, ("Vary", "Authorization")])
    assert public_cache._keepable("200 OK", [*public, ("Vary", "Accept-Encoding, Cookie")])
