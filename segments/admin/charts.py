"""The segment page's chart, drawn as SVG on the server: no JavaScript, readable
without it, and testable with the test client."""

from dataclasses import dataclass

from segments.selectors import DayStats

WIDTH = 720
SIZE_TOP, SIZE_BOTTOM = 10, 110  # the size line's band
BASELINE, MOVE_HEIGHT = 160, 36  # joins rise above the baseline, leaves fall below
HEIGHT = BASELINE + MOVE_HEIGHT + 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "joins" or "leaves"
    title: str


def _bar(i, step, value, peak, kind, title) -> Bar | None:
    if not value:
        return None
    height = max(1.0, value / peak * MOVE_HEIGHT)
    y = BASELINE - height if kind == "joins" else BASELINE
    return Bar(
        round(i * step + 1, 1),
        round(y, 1),
        round(step - 2, 1),
        round(height, 1),
        kind,
        title,
    )


def daily_chart(daily: list[DayStats]) -> dict:
    """Bars of joins and leaves per day and a line of the size at each day's end."""
    step = WIDTH / max(len(daily), 1)
    peak_size = max((d.total for d in daily), default=0) or 1
    peak_move = max((max(d.joins, d.leaves) for d in daily), default=0) or 1
    points, bars = [], []
    for i, day in enumerate(daily):
        y = SIZE_BOTTOM - day.total / peak_size * (SIZE_BOTTOM - SIZE_TOP)
        points.append(f"{i * step + step / 2:.1f},{y:.1f}")
        title = f"{day.date:%b %d}: +{day.joins} / -{day.leaves}, {day.total} members"
        bars += [
            bar
            for bar in (
                _bar(i, step, day.joins, peak_move, "joins", title),
                _bar(i, step, day.leaves, peak_move, "leaves", title),
            )
            if bar
        ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": BASELINE,
        "points": " ".join(points),
        "bars": bars,
        "peak_size": peak_size,
        "first": daily[0].date if daily else None,
        "last": daily[-1].date if daily else None,
    }
