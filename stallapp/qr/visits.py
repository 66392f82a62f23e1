"""Which printed QR code brought this visitor, kept in their session cookie by the scan redirect.

For views only: the scan view remembers the code, and the public forms that follow (a sign-up, a
message, a registration) read it here and pass it to their service as ``source_qr_code_id``.
Services never read the cookie, so a seller who scanned a code at the stall does not credit it
with what they then record on the sale screen.
"""

from flask import session

from stallapp.qr.models import QrCode

#: The key in the session cookie.
SCANNED_QR_CODE_KEY = "scanned_qr_code_id"


def remember_scan(qr_code: QrCode) -> None:
    """Remember in the visitor's session which code they scanned."""
    session[SCANNED_QR_CODE_KEY] = qr_code.id


def scanned_qr_code_id() -> int | None:
    """Return the id of the QR code this visitor scanned to get here, if any."""
    value = session.get(SCANNED_QR_CODE_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
