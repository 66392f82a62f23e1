"""Input no view should ever see: control characters, runaway JSON, numbers beyond any use.

Forms refuse control characters field by field (:class:`stallapp.forms.StallForm`), so the
person sees the message next to what they typed. This module holds the rules they share, and the
guard that refuses the rest before any view runs: query arguments, URL parts and JSON bodies (at
any depth, with the depth and size capped). PostgreSQL refuses NUL bytes in text, and lone UTF-16
surrogates cannot be encoded at all: either would otherwise reach the database as a 500.
"""

import json
import math
import re
from collections.abc import Iterator

from flask import Flask, abort, g, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from stallapp.errors import refuse

#: C0 controls but tab, line feed and carriage return; DEL; C1 controls; lone surrogates.
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same plus tab and line breaks: nothing on one line needs them.
_CONTROL_ON_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

#: Largest id in a URL: the database's integers are 32-bit.
LARGEST_ID = 2**31 - 1
#: JSON nested deeper than this is refused before it is decoded (the sync body needs 4 levels;
#: 100,000 nested ``[`` would otherwise exhaust Python's recursion limit).
MAX_JSON_DEPTH = 20
#: Largest JSON body accepted, in bytes: a full sync batch of 200 operations is about 80 KB.
MAX_JSON_BYTES = 256 * 1024
#: JSON integers longer than this are no id, quantity or amount.
MAX_JSON_INTEGER_DIGITS = 20
#: Brackets, braces, quotes and backslashes: all that decides how deep JSON text nests.
_JSON_STRUCTURE = re.compile(r'[\[\]{}"\\]')


class AsciiIntegerConverter(IntegerConverter):
    """``<int:...>`` in routes, for ASCII digits only.

    Werkzeug's matches any Unicode digit, so ``/sell/１/sync`` (a full-width one) reached
    event 1; an id in an address is written 0-9 or it is not an id.
    """

    regex = r"[0-9]+"


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Tell whether ``text`` holds characters no stored text may contain.

    Multi-line text may hold tabs and line breaks; a single line may not.
    """
    pattern = _CONTROL_IN_TEXT if multiline else _CONTROL_ON_A_LINE
    return pattern.search(text) is not None


def whole_number(text: str, maximum: int) -> int | None:
    """Return the whole number written in ASCII digits in ``text``, or None.

    ``int()`` and ``str.isdigit`` accept "²", "１２" and Arabic digits, and a 10,000-digit number
    makes ``int()`` raise; here anything but 0-9 (after trimming spaces), or above ``maximum``,
    is None.
    """
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Tell whether JSON text nests arrays and objects deeper than ``limit``, before decoding."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_STRUCTURE.finditer(text):
        position = match.start()
        if position == escaped_at:
            continue
        character = match.group()
        if in_string:
            if character == "\\":
                escaped_at = position + 1
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > limit:
                return True
        elif character in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise ValueError("integer out of range")
    return int(text)


class BoundedJSONProvider(DefaultJSONProvider):
    """Decode request JSON with its depth capped and without NaN, Infinity or huge numbers.

    Every failure is a ``ValueError``, which ``request.get_json`` turns into a 400.
    """

    def loads(self, s: str | bytes, **kwargs):
        text = s.decode("utf-8") if isinstance(s, bytes | bytearray) else s
        if len(text) > MAX_JSON_BYTES:
            raise ValueError("JSON body too large")
        if json_too_deep(text):
            raise ValueError("JSON nested too deeply")
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        kwargs.setdefault("parse_int", _bounded_int)
        return json.loads(text, **kwargs)


def _json_strings(value, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Yield ``(path, text)`` for every string in decoded JSON, keys included, without recursion."""
    pending = [(path, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield (*where, key), key
                pending.append(((*where, key), inner))
        elif isinstance(item, list):
            pending.extend(((*where, index), inner) for index, inner in enumerate(item))


def _operation_at(body, path: tuple) -> str | None:
    """The id of the sync operation a bad value sits in, so the phone can set that one aside."""
    if len(path) < 2 or path[0] != "operations" or not isinstance(body, dict):
        return None
    operations = body.get("operations")
    index = path[1]
    if not isinstance(operations, list) or not isinstance(index, int):
        return None
    operation = operations[index]
    op_id = operation.get("id") if isinstance(operation, dict) else None
    if isinstance(op_id, str) and len(op_id) <= 36 and not has_control_characters(op_id):
        return op_id
    return None


def _check_json_body():
    """Decode a JSON body once, bounded, and refuse control characters in any of its strings."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return None
    if (request.content_length or 0) > MAX_JSON_BYTES:
        return refuse(413, _("The request is too large."))
    try:
        if not request.get_data(cache=True):
            return None
        body = request.get_json()
    except RequestEntityTooLarge:
        return refuse(413, _("The request is too large."))
    except BadRequest:
        return refuse(
            400,
            _(
                "The request must be JSON, nested at most %(depth)d levels, without NaN, "
                "Infinity or numbers of more than %(digits)d digits.",
                depth=MAX_JSON_DEPTH,
                digits=MAX_JSON_INTEGER_DIGITS,
            ),
        )
    if not isinstance(body, dict):
        return refuse(400, _("Send a JSON object."))
    for path, text in _json_strings(body):
        if has_control_characters(text, multiline=True):
            extra = {"field": ".".join(str(step) for step in path)}
            op_id = _operation_at(body, path)
            if op_id is not None:
                extra["operation"] = op_id
            return refuse(
                400, _("Text may not contain control characters (such as a NUL byte)."), **extra
            )
    return None


def refuse_bad_input():
    """Refuse control characters in the URL and query, and malformed or runaway JSON."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and has_control_characters(value):
            return refuse(400, _("The address contains characters that cannot be used."))
        if isinstance(value, int) and not 0 <= value <= LARGEST_ID:
            # No row has such an id; PostgreSQL would raise rather than find nothing.
            abort(404)
    for key, value in request.args.items(multi=True):
        if has_control_characters(key) or has_control_characters(value):
            return refuse(
                400, _("The address contains characters that cannot be used (control characters).")
            )
    return _check_json_body()


def refused_by_a_form(response):
    """A form that refused control characters re-renders with its message: answer it as 400."""
    if g.get("control_characters_refused") and response.status_code == 200:
        response.status_code = 400
    return response


def register_input_guard(app: Flask) -> None:
    """Decode JSON bounded, and refuse bad input before any view runs."""
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_bad_input)
    app.after_request(refused_by_a_form)
