"""The segment page's chart, drawn as SVG on the server: no JavaScript, readable
without it, and testable with the test client."""

from dataclasses import dataclass

from segments.selectors import DayStats

GUTTER = 48  # left of the plot: the axis labels
PLOT_WIDTH = 680
WIDTH = GUTTER + PLOT_WIDTH
SIZE_TOP, SIZE_BOTTOM = 10, 110  # the size line's band
BASELINE, MOVE_HEIGHT = 160, 36  # joins rise above the baseline, leaves fall below
DATES_Y = BASELINE + MOVE_HEIGHT + 16  # the dates under the plot
HEIGHT = DATES_Y + 4


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
        round(GUTTER + i * step + 1, 1),
        round(y, 1),
        round(step - 2, 1),
        round(height, 1),
        kind,
        title,
    )


def daily_chart(daily: list[DayStats]) -> dict:
    """Bars of joins and leaves per day and a line of the size at each day's end,
    with the scale of each written on the left and the dates below."""
    step = PLOT_WIDTH / max(len(daily), 1)
    peak_size = max((d.total for d in daily), default=0) or 1
    peak_move = max((max(d.joins, d.leaves) for d in daily), default=0) or 1
    points, bars = [], []
    for i, day in enumerate(daily):
        y = SIZE_BOTTOM - day.total / peak_size * (SIZE_BOTTOM - SIZE_TOP)
        points.append(f"{GUTTER + i * step + step / 2:.1f},{y:.1f}")
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
        "gutter": GUTTER,
        "baseline": BASELINE,
        "peak_move": peak_move,
        "labels": _labels(daily, step, peak_size, peak_move),
        "points": " ".join(points),
        "bars": bars,
        "peak_size": peak_size,
        "first": daily[0].date if daily else None,
        "last": daily[-1].date if daily else None,
    }


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "end"


def _labels(daily: list[DayStats], step: float, peak_size: int, peak_move: int):
    """The size's scale (0 to its peak), the daily moves' (their peak up and down)
    and the first, middle and last dates."""
    left = GUTTER - 6
    labels = [
        Label(left, SIZE_TOP + 4, f"{peak_size:,}"),
        Label(left, SIZE_BOTTOM + 4, "0"),
        Label(left, BASELINE - MOVE_HEIGHT + 8, f"+{peak_move:,}"),
        Label(left, BASELINE + MOVE_HEIGHT, f"-{peak_move:,}"),
    ]
    if daily:
        for i, anchor in ((0, "start"), (len(daily) // 2, "middle")):
            x = GUTTER + i * step + (0 if anchor == "start" else step / 2)
            labels.append(Label(x, DATES_Y, f"{daily[i].date:%b %d}", anchor))
        labels.append(Label(WIDTH, DATES_Y, f"{daily[-1].date:%b %d}", "end"))
    return labels
