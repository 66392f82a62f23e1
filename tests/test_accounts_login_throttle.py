"""Failed logins: hard limits per account-and-address and per address, a capped slow-down per
account, and an owner who can always log in while someone else keeps guessing."""

import secrets
import time

import pytest
import sqlalchemy as sa

from stallapp.accounts import services, throttle
from stallapp.accounts import views as account_views
from stallapp.accounts.models import LoginSession
from stallapp.extensions import limiter
from tests.conftest import PASSWORD

WRONG = "not the password"


def attempt(app, email: str, password: str, address: str):
    """Post the login form from ``address`` with a fresh browser."""
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    return client, response


def live_sessions(db, user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    )


def test_owner_logs_in_while_an_attacker_keeps_failing_from_other_addresses(
    app, make_user, login_pauses, db
):
    # Budget enough for every pause here (see the budget test below).
    app.config["LOGIN_PAUSE_BUDGET_SECONDS_PER_MINUTE"] = 1000
    owner = make_user(email="owner@example.org")
    answers = []
    for machine in range(1, 5):
        for _ in range(6):
            _, response = attempt(app, owner.email, WRONG, f"203.0.113.{machine}")
            answers.append(response.status_code)
    # Each address gets five guesses at this account, then is refused; 20 failures in all.
    assert answers == ([200] * 5 + [429]) * 4
    assert throttle.recent_failures(owner.email) == 20

    login_pauses.clear()
    phone, response = attempt(app, owner.email, PASSWORD, "192.0.2.77")
    assert response.status_code == 302
    assert phone.get("/").status_code == 200
    assert live_sessions(db, owner) == 1
    # Slowed down, capped, never refused.
    assert login_pauses == [app.config["LOGIN_SLOWDOWN_MAX_SECONDS"]] == [2.0]


def test_six_failures_from_six_addresses_do_not_lock_the_owner_out(app, make_user, db):
    owner = make_user()
    for machine in range(6):
        assert attempt(app, owner.email, WRONG, f"198.51.100.{machine}")[1].status_code == 200
    _, response = attempt(app, owner.email, PASSWORD, "198.51.100.7")
    assert response.status_code == 302
    assert live_sessions(db, owner) == 1


def test_the_pause_grows_with_failures_from_anywhere_and_is_capped(app, make_user, login_pauses):
    user = make_user()
    for machine in range(10):
        attempt(app, user.email, WRONG, f"198.51.100.{machine}")
    # Five free failures, then 0.25 s doubling up to the 2 s cap.
    assert login_pauses == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [throttle.delay_for(failures) for failures in (0, 4, 5, 8, 50, 10**9)] == [
        0,
        0,
        0.25,
        2.0,
        2.0,
        2.0,
    ]


def test_the_pause_comes_before_the_password_is_checked(app, make_user, monkeypatch):
    user = make_user()
    for machine in range(5):
        attempt(app, user.email, WRONG, f"198.51.100.{machine}")
    events = []
    monkeypatch.setattr(throttle, "pause", lambda seconds: events.append(("pause", seconds)))
    checked = services.authenticate
    monkeypatch.setattr(
        services,
        "authenticate",
        lambda *args: events.append(("check", None)) or checked(*args),
    )
    assert attempt(app, user.email, PASSWORD, "192.0.2.1")[1].status_code == 302
    assert events == [("pause", 0.25), ("check", None)]


def test_one_address_is_refused_for_one_account_only(app, make_user):
    target, other = make_user(), make_user()
    for _ in range(5):
        assert attempt(app, target.email, WRONG, "203.0.113.9")[1].status_code == 200
    client, refused = attempt(app, target.email, PASSWORD, "203.0.113.9")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302, "no session behind a 429"
    # Another account from the same venue, and the same account from elsewhere, still log in.
    assert attempt(app, other.email, PASSWORD, "203.0.113.9")[1].status_code == 302
    assert attempt(app, target.email, PASSWORD, "192.0.2.8")[1].status_code == 302


def test_one_address_guessing_many_accounts_is_refused(app, make_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "8 per minute"
    user = make_user()
    for number in range(8):
        response = attempt(app, f"guess{number}@example.org", WRONG, "203.0.113.20")[1]
        assert response.status_code == 200
    assert attempt(app, user.email, PASSWORD, "203.0.113.20")[1].status_code == 429
    assert attempt(app, user.email, PASSWORD, "203.0.113.21")[1].status_code == 302


def test_unknown_addresses_are_counted_like_known_ones(app, make_user):
    for _ in range(5):
        assert attempt(app, "ghost@example.org", WRONG, "203.0.113.30")[1].status_code == 200
    assert attempt(app, "ghost@example.org", WRONG, "203.0.113.30")[1].status_code == 429


def _crash_on_the_failed_login_page(monkeypatch):
    real_render = account_views.render_template

    def render(template, **context):
        if template == "accounts/login.html" and context["form"].password.errors:
            raise RuntimeError("the failed-login page broke")
        return real_render(template, **context)

    monkeypatch.setattr(account_views, "render_template", render)


def _crash_while_checking(monkeypatch):
    def broken(*args):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("database went away"))

    monkeypatch.setattr(services, "authenticate", broken)


@pytest.mark.parametrize("crash", [_crash_on_the_failed_login_page, _crash_while_checking])
def test_server_errors_never_count_as_failures(app, make_user, monkeypatch, login_pauses, crash):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    user = make_user()
    with monkeypatch.context() as patched:
        crash(patched)
        for _ in range(8):
            assert attempt(app, user.email, WRONG, "203.0.113.40")[1].status_code >= 500
    assert throttle.recent_failures(user.email) == 0
    assert attempt(app, user.email, PASSWORD, "203.0.113.40")[1].status_code == 302
    assert login_pauses == []


def test_successful_logins_do_not_count(app, make_user, login_pauses):
    user = make_user()
    for _ in range(12):
        assert attempt(app, user.email, PASSWORD, "203.0.113.50")[1].status_code == 302
    assert throttle.recent_failures(user.email) == 0
    assert login_pauses == []


def test_counts_expire(app, make_user, monkeypatch, login_pauses):
    user = make_user()
    for machine in range(8):
        attempt(app, user.email, WRONG, f"198.51.100.{machine}")
    for _ in range(5):
        attempt(app, user.email, WRONG, "203.0.113.60")
    assert attempt(app, user.email, PASSWORD, "203.0.113.60")[1].status_code == 429
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3601)
    login_pauses.clear()
    assert attempt(app, user.email, PASSWORD, "203.0.113.60")[1].status_code == 302
    assert login_pauses == []


def test_the_store_holds_no_email_and_no_address(app, make_user):
    user = make_user(email="private.person@example.org")
    attempt(app, user.email, WRONG, "203.0.113.70")
    keys = list(limiter.storage.storage)
    assert len(keys) == 5, keys  # pair (minute, hour), address (minute, hour), slow-down
    assert not [key for key in keys if "private" in key or "203.0.113" in key]


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    yield client
    client.close()


@pytest.fixture
def app_config(app_config, request):
    if "redis_client" in request.fixturenames:
        app_config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    return app_config


def test_limits_hold_in_a_shared_redis_store(app, make_user, redis_client, login_pauses, db):
    # A fresh account and addresses per run: the Redis server outlives the test.
    owner = make_user(email=f"owner-{secrets.token_hex(4)}@example.org")
    attacker = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    account_hash = throttle._account(owner.email)
    try:
        for _ in range(5):
            assert attempt(app, owner.email, WRONG, attacker)[1].status_code == 200
        assert attempt(app, owner.email, WRONG, attacker)[1].status_code == 429
        keys = [key.decode() for key in redis_client.keys(f"*{account_hash}*")]
        assert len(keys) == 3, keys  # pair (minute, hour) and slow-down
        assert all(0 < redis_client.ttl(key) <= 3600 for key in keys), "every count expires"
        everything = b" ".join(redis_client.keys("*"))
        assert owner.email.encode() not in everything
        assert attacker.encode() not in everything
        assert attempt(app, owner.email, PASSWORD, "192.0.2.99")[1].status_code == 302
        assert live_sessions(db, owner) == 1
    finally:
        address_hash = throttle._address(attacker)
        for pattern in (f"*{account_hash}*", f"*{address_hash}*"):
            for key in redis_client.keys(pattern):
                redis_client.delete(key)


def test_pauses_stop_when_the_site_pause_budget_is_spent(app, make_user, login_pauses, db):
    """Guesses from ever new addresses cannot keep every worker asleep: beyond the site's pause
    budget for the minute, logins are checked at once (the owner still gets in)."""
    app.config["LOGIN_PAUSE_BUDGET_SECONDS_PER_MINUTE"] = 4
    owner = make_user(email="target@example.org")
    for machine in range(1, 13):
        _, response = attempt(app, owner.email, WRONG, f"198.51.100.{machine}")
        assert response.status_code == 200
    # Five free failures, then 0.25 + 0.5 + 1 + 2 = 3.75 s fit the 4 s budget; no more pauses.
    assert login_pauses == [0.25, 0.5, 1.0, 2.0]
    phone, response = attempt(app, owner.email, PASSWORD, "192.0.2.99")
    assert response.status_code == 302
    assert phone.get("/").status_code == 200
    assert live_sessions(db, owner) == 1
    assert login_pauses == [0.25, 0.5, 1.0, 2.0]
