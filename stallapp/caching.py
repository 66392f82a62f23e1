"""Answers that are the same for every reader: cache headers, validators and 304 Not Modified.

A view marks such an answer with :func:`public_response` (or sets a ``Cache-Control`` that
says ``public`` itself). Every such GET answer then gets an ETag, the hash of its body, and a
request that already holds that body (``If-None-Match``, or ``If-Modified-Since`` when the view
gave a ``Last-Modified``) is answered ``304 Not Modified``: a few headers instead of the page or
the feed. So a calendar app polling a feed, or a visitor coming back, costs almost nothing on
the wire, and the validator can never disagree with the body it stands for.

The ETag is weak (``W/"..."``): the same content gzipped or not is the same for the reader,
and :mod:`stallapp.compression` changes the encoding after this.
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime

from flask import Flask, Response, request

#: Pages and feeds without personal data: browsers and shared caches may keep them this long.
FIVE_MINUTES = "public, max-age=300"
#: Kept, but asked about each time (a 304 when unchanged): pages whose figures move, such as
#: the places left at an event.
ALWAYS_REVALIDATE = "public, no-cache"


def public_response(
    response: Response | str | bytes,
    cache_control: str = FIVE_MINUTES,
    *,
    last_modified: datetime | None = None,
    vary: Iterable[str] = (),
) -> Response:
    """Mark ``response`` as the same for every reader, so it is cached and revalidated.

    ``last_modified`` (aware) lets clients that only send ``If-Modified-Since`` get a 304 too;
    ``vary`` names request headers the body depends on (``Accept-Language``).
    """
    if not isinstance(response, Response):
        response = Response(response)
    response.headers["Cache-Control"] = cache_control
    if last_modified is not None:
        response.last_modified = last_modified
    for header in vary:
        response.vary.add(header)
    return response


def is_public(response: Response) -> bool:
    """Tell whether ``response`` says any cache may keep it."""
    directives = response.cache_control
    return bool(directives.public) and not directives.no_store and not directives.private


def answer_conditionally(response: Response) -> Response:
    """Give a public GET answer its ETag and turn it into a 304 if the client holds it."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or not is_public(response)
    ):
        return response
    if not response.get_etag()[0]:
        digest = hashlib.blake2b(response.get_data(), digest_size=12).hexdigest()
        response.set_etag(digest, weak=True)
    return response.make_conditional(request)


def register_conditional_answers(app: Flask) -> None:
    """Answer conditional requests for every public response."""
    app.after_request(answer_conditionally)
