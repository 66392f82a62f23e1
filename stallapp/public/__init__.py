"""Public pages: what visitors reach without logging in, often from a QR code."""
