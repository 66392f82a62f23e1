"""Bar charts drawn on the server as SVG geometry (no script, no chart library).

Bars are horizontal, one row each, with the label above the bar: at 390 px wide a label never
has to be squeezed under a narrow column.
"""

from dataclasses import dataclass

#: The drawing is this wide in SVG units; it scales to the page's width.
WIDTH = 360
ROW_HEIGHT = 40
BAR_HEIGHT = 16
LABEL_LENGTH = 42
#: Room kept right of the longest bar for its value.
VALUE_ROOM = 70


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    label_y: int
    bar_y: int
    bar_width: int
    value_x: int
    #: CSS class of the bar (its colour, from the stylesheet).
    kind: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LENGTH else label[: LABEL_LENGTH - 1] + "…"


def bar_chart(title: str, rows: list[tuple[str, int, str, str]]) -> Chart:
    """Lay out ``rows`` of ``(label, value, value as text, kind)`` as horizontal bars.

    Values below 0 (more undone than sold) draw no bar but keep their text.
    """
    largest = max((value for _label, value, _text, _kind in rows), default=0)
    scale = (WIDTH - VALUE_ROOM) / largest if largest > 0 else 0
    bars = []
    for index, (label, value, text, kind) in enumerate(rows):
        top = index * ROW_HEIGHT
        width = max(round(value * scale), 1 if value > 0 else 0)
        bars.append(
            Bar(
                label=_short(label),
                value_text=text,
                label_y=top + 14,
                bar_y=top + 20,
                bar_width=width,
                value_x=width + 6,
                kind=kind,
            )
        )
    return Chart(title=title, bars=bars, height=max(len(rows), 1) * ROW_HEIGHT)
