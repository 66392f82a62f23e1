"""QR codes: printed codes that open a public page and count their scans."""
