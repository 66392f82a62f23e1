"""Languages: the user's setting, the browser's preference, and locale-aware money."""

import pytest

from stallapp.money import format_money, parse_money, to_decimal


def test_browser_preference_picks_french(client):
    page = client.get("/login", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert "Se connecter" in page
    assert 'lang="fr' in page


def test_english_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page


def test_user_setting_beats_the_browser(client, make_user, login_as, db):
    user = make_user()
    user.locale = "fr"
    db.session.commit()
    login_as(user)
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Se déconnecter" in page


def test_money_is_formatted_for_the_locale(app):
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en-GB"}):
        assert format_money(1200, "GBP") == "£12.00"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "fr"}):
        assert format_money(1250, "CAD").replace("\u202f", " ").replace("\xa0", " ") == "12,50 $CA"


def test_money_minor_units_by_currency():
    assert str(to_decimal(1500, "GBP")) == "15.00"
    assert str(to_decimal(1500, "JPY")) == "1500"
    assert parse_money("12,50", "EUR") == 1250
    assert parse_money(" 3 ", "USD") == 300
    with pytest.raises(ValueError):
        parse_money("1.234", "GBP")
    with pytest.raises(ValueError):
        parse_money("ten", "GBP")


def test_group_pages_follow_the_groups_regional_conventions(client, make_group):
    make_group(slug="uk", currency="GBP", language="en")
    make_group(slug="nyc", currency="USD", language="en", timezone="America/New_York")
    make_group(slug="montreal", currency="CAD", language="fr", timezone="America/Toronto")
    assert '<html lang="en-GB">' in client.get("/g/uk").get_data(as_text=True)
    assert '<html lang="en-US">' in client.get("/g/nyc").get_data(as_text=True)
    assert '<html lang="fr-CA">' in client.get("/g/montreal").get_data(as_text=True)


def test_regional_locale_falls_back_to_the_language():
    from types import SimpleNamespace

    from stallapp.i18n import regional_locale

    assert regional_locale("en", SimpleNamespace(currency="GBP")) == "en_GB"
    assert regional_locale("fr", SimpleNamespace(currency="EUR")) == "fr"
    assert regional_locale("en", SimpleNamespace(currency="JPY")) == "en"
    assert regional_locale("en", None) == "en"


def test_strings_and_money_follow_a_locale_forced_inside_a_request(app):
    """Template strings and amounts are looked up once per locale and kept: a block under
    ``force_locale`` (an email in the group's language) and the page after it still differ."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = "{{ _('Log in') }} {{ format_money(1250, 'EUR') }}"
    with app.app_context(), app.test_request_context():
        # Every gettext callable a template may call is installed, contexts included.
        assert render_template_string("{{ pgettext('menu', 'Log in') }}") == "Log in"
        assert (
            render_template_string("{{ npgettext('c', '%(num)d sale', '%(num)d sales', 2) }}")
            == "2 sales"
        )
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en-GB"}):
        assert render_template_string(page) == "Log in €12.50"
        with force_locale("fr"):
            forced = render_template_string(page).replace("\u202f", " ").replace("\xa0", " ")
            assert forced == "Se connecter 12,50 €"
        with force_locale("it"):
            forced = render_template_string(page).replace("\u202f", " ").replace("\xa0", " ")
            assert forced.startswith("Accedi") and "12,50" in forced
        assert render_template_string(page) == "Log in €12.50"
