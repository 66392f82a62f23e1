"""Plain text helpers: an email address as stored, and text shown as HTML (escaped, line breaks
kept, web links clickable, nothing else)."""

import re

from markupsafe import Markup, escape

#: An http(s) link up to the next space or angle bracket; trailing punctuation is cut off below.
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def plain_text_to_html(text: str | None) -> Markup:
    """Return ``text`` as safe HTML: everything escaped, newlines as ``<br>``, links as ``<a>``.

    Only http and https links become clickable, so ``javascript:`` and friends stay text.
    """
    if not text:
        return Markup("")
    parts: list[str] = []
    position = 0
    for match in LINK.finditer(text):
        link = match.group(0)
        trimmed = link.rstrip(TRAILING_PUNCTUATION)
        # A closing bracket that closes one inside the link belongs to it (Wikipedia-style URLs).
        while link[len(trimmed) :].startswith(")") and trimmed.count("(") > trimmed.count(")"):
            trimmed += ")"
        parts.append(str(escape(text[position : match.start()])))
        parts.append(
            f'<a href="{escape(trimmed)}" rel="nofollow noopener noreferrer">{escape(trimmed)}</a>'
        )
        position = match.start() + len(trimmed)
    parts.append(str(escape(text[position:])))
    html = "".join(parts).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>\n")
    return Markup(html)  # noqa: S704 - every piece above was escaped


#: Search engines show about this many characters of a page's description.
DESCRIPTION_LENGTH = 160


def meta_description(*texts: str | None) -> str:
    """Return the first non-empty text on one line, cut at a word near 160 characters, for a
    page's ``<meta name="description">`` (autoescaped where it is placed)."""
    text = next((" ".join(t.split()) for t in texts if t and t.strip()), "")
    if len(text) <= DESCRIPTION_LENGTH:
        return text
    cut = text[: DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.–- ") + "…"


def normalise_email(email: str) -> str:
    """Return the address as stored: trimmed and lower-cased, so one address is one account."""
    return email.strip().lower()
