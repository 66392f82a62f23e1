"""Reading our QR codes back, as a phone camera would."""

import cv2
import numpy


def decode_png(body: bytes) -> str:
    """Read the code as a phone camera would: OpenCV's classic detector, then its ArUco-based
    one (the classic one misses a few valid codes, e.g. the one holding
    ``http://stalls.example.org/q/u8kRcYEE``; any camera app reads them)."""
    image = cv2.imdecode(numpy.frombuffer(body, dtype=numpy.uint8), cv2.IMREAD_COLOR)
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, _points, _straight = detector.detectAndDecode(image)
        if text:
            return text
    return ""
