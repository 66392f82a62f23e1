"""Every shipped language is complete: every page renders with no marked string missing from its
catalogue, and the catalogue translates every string the code and templates mark.

The page sweep opens every GET route (as the public, a group's organiser and a site admin, all in
the language under test) and records each string looked up in the catalogue that it lacks, with
the page it was missing on. A failure lists them, so a translator knows what to add.
"""

from collections import defaultdict
from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po

from stallapp.config import DefaultConfig
from stallapp.network import services as network
from tests.builders import add_meeting, register
from tests.route_world import client_as, pages_of

TRANSLATIONS = Path(__file__).resolve().parent.parent / "stallapp" / "translations"
#: English is the source language: its strings are the message ids themselves.
TRANSLATED = [language for language in DefaultConfig.LANGUAGES if language != "en"]


class RecordingTranslations:
    """A catalogue that notes every message it is asked for and does not hold."""

    def __init__(self, translations, missing: set[str]):
        self.translations = translations
        self.catalog = getattr(translations, "_catalog", {})
        self.missing = missing

    def _check(self, key, shown: str) -> None:
        if not self.catalog.get(key):
            self.missing.add(shown)

    def ugettext(self, message):
        self._check(message, message)
        return self.translations.ugettext(message)

    def ungettext(self, singular, plural, number):
        self._check((singular, 0), singular)
        return self.translations.ungettext(singular, plural, number)

    def upgettext(self, context, message):
        self._check(f"{context}\x04{message}", message)
        return self.translations.upgettext(context, message)

    def unpgettext(self, context, singular, plural, number):
        self._check((f"{context}\x04{singular}", 0), singular)
        return self.translations.unpgettext(context, singular, plural, number)

    gettext, ngettext, pgettext, npgettext = ugettext, ungettext, upgettext, unpgettext


@pytest.fixture
def missing_strings(monkeypatch):
    """The strings found missing, per page; English pages (no catalogue) record nothing."""
    found: dict[str, set[str]] = defaultdict(set)
    current = {"page": ""}
    real = flask_babel.Domain.get_translations

    def recording(self):
        translations = real(self)
        if not getattr(translations, "_catalog", None):
            return translations
        return RecordingTranslations(translations, found[current["page"]])

    monkeypatch.setattr(flask_babel.Domain, "get_translations", recording)
    return found, current


def _report(found: dict[str, set[str]], language: str) -> str:
    lines = [f"Strings missing from the {language} catalogue, by the page they are on:"]
    for page, strings in sorted(found.items()):
        if strings:
            lines.append(f"  {page}")
            lines.extend(f"    {text!r}" for text in sorted(strings))
    return "\n".join(lines)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_page_renders_fully_translated(
    app,
    db,
    world,
    make_user,
    missing_strings,
    language,
):
    found, current = missing_strings
    group = world["group"]
    group.language = language
    for person in ("organiser", "member", "outsider"):
        world[person].locale = language
    admin = make_user(is_admin=True)
    admin.locale = language
    network.save_public_page_settings(
        db.session, group, listed_on_network=True, embed_origins="https://example.org"
    )
    event = add_meeting(db, group, title="Riunione")
    registration = register(db, event, "rosa@example.org")
    visitors = {
        "public": app.test_client(),
        "organiser": client_as(app, world["organiser"]),
        "admin": client_as(app, admin),
    }
    pages = pages_of(app, world)
    code, token = event.public_code, registration.cancel_token
    pages += [
        ("public", f"/e/{code}/cancel/{token}"),
        ("public", f"/e/{code}/r/{token}/event.ics"),
        ("public", "/events?by=group"),
    ]
    for who, url in pages:
        current["page"] = f"{who} {url}"
        response = visitors[who].get(url)
        assert response.status_code < 500, url
    missing = {page: strings for page, strings in found.items() if strings}
    if missing:
        pytest.fail(_report(missing, language), pytrace=False)


def _untranslated(language: str) -> list[str]:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        complete = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if translated is None or not complete or translated.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_translates_every_marked_string(language):
    missing = _untranslated(language)
    assert missing == [], f"{len(missing)} strings missing from {language}:\n" + "\n".join(
        f"  {text!r}" for text in missing
    )


def test_italian_plurals_have_two_forms(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context(), force_locale("it"):
        assert ngettext("%(num)d copy", "%(num)d copies", 1) == "1 copia"
        assert ngettext("%(num)d copy", "%(num)d copies", 5) == "5 copie"
        assert ngettext("%(num)d copy", "%(num)d copies", 1_000_000) == "1000000 copie"
