"""The benchmarks' shared result format, and the helpers that fill it.

Every `bench/<name>.py` run with `--json PATH` writes one file with
`write_results(PATH, benchmark=..., title=..., results=[Result(...)], notes=[...])`;
`bench/run.py` reads them back with `read_results` and renders the table
(`render_table`, `render_block`) into docs/performance.md. Pure functions and the
standard library only, so a script can import it before Django is set up.
"""

import json
import math
import os
import platform
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"


@dataclass
class Result:
    """One timed path: our median beside the baselines' medians, same run."""

    path: str
    metric: str
    ours: float | None
    higher_is_better: bool = False
    runs: list[float] = field(default_factory=list)
    baselines: dict[str, float] = field(default_factory=dict)
    target: str | None = None
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def median(values: Iterable[float]) -> float:
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def ratio(ours: float | None, baseline: float | None, *, higher_is_better: bool):
    """How many times better than the baseline we are (> 1: we win).

    For times (lower is better) it is baseline / ours; for rates it is
    ours / baseline. None when either side is missing or zero."""
    if not ours or not baseline:
        return None
    return ours / baseline if higher_is_better else baseline / ours


def write_results(
    path: str | os.PathLike,
    *,
    benchmark: str,
    title: str,
    results: Sequence[Result],
    notes: Sequence[str] = (),
) -> None:
    data = {
        "benchmark": benchmark,
        "title": title,
        "results": [asdict(result) for result in results],
        "notes": list(notes),
    }
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_results(path: str | os.PathLike) -> dict:
    data = json.loads(Path(path).read_text())
    known = set(Result.__dataclass_fields__)
    data["results"] = [
        Result(**{k: v for k, v in item.items() if k in known})
        for item in data.get("results", [])
    ]
    data.setdefault("notes", [])
    return data


# --- the machine ---------------------------------------------------------------


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_info(*, pg_version: str | None = None) -> dict[str, Any]:
    """CPU, cores, RAM, PostgreSQL, load and commit: what a reader compares."""
    ram_kb = _first("/proc/meminfo", "MemTotal")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "cores": os.cpu_count(),
        "ram_gb": round(int(ram_kb.split()[0]) / 1024 / 1024, 1) if ram_kb else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg_version,
        "load": [round(x, 2) for x in os.getloadavg()],
        "commit": commit,
    }


# --- rendering -------------------------------------------------------------------


def fmt(value: float | None, metric: str = "") -> str:
    """A number for a table: 3 significant figures, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {metric}".strip()


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def _met(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "-"}[met]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_table(reports: Sequence[dict]) -> str:
    """One row per (result, baseline): the baseline's value and our ratio to it.

    A report with "failed" set (the script crashed or wrote nothing) is one row
    that says so."""
    lines = [
        "| benchmark | path | ours | baseline | baseline's value | ratio | target "
        "| met? |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        name = _cell(report["benchmark"])
        if report.get("skipped"):
            why = _cell(report["skipped"])
            lines.append(f"| {name} | not run: {why} | - | - | - | - | - | - |")
            continue
        if report.get("failed"):
            reason = _cell(report["failed"])
            lines.append(
                f"| {name} | **failed**: {reason} | - | - | - | - | - | **no** |"
            )
            continue
        for result in report["results"]:
            ours = fmt(result.ours, result.metric)
            target, met = _cell(result.target or "-"), _met(result.met)
            baselines = list(result.baselines.items()) or [(None, None)]
            for i, (base, value) in enumerate(baselines):
                head = (
                    f"| {name} | {_cell(result.path)} | {ours} |"
                    if i == 0
                    else ("| | | |")
                )
                r = ratio(result.ours, value, higher_is_better=result.higher_is_better)
                tail = f" {target} | {met} |" if i == 0 else " | |"
                lines.append(
                    f"{head} {_cell(base or '-')} | {fmt(value, result.metric)} "
                    f"| {fmt_ratio(r)} |{tail}"
                )
    return "\n".join(lines)


def render_notes(reports: Sequence[dict]) -> str:
    lines = []
    for report in reports:
        items = list(report.get("notes") or [])
        for result in report.get("results", []):
            if result.extra:
                figures = ", ".join(
                    f"{k} {fmt(v) if isinstance(v, int | float) else v}"
                    for k, v in result.extra.items()
                )
                items.append(f"{result.path}: {figures}")
            if len(result.runs) > 1:
                runs = ", ".join(fmt(v) for v in result.runs)
                items.append(f"{result.path}: runs {runs} {result.metric}")
        if items:
            lines.append(f"- **{report['benchmark']}** ({report.get('title', '')}):")
            lines += [f"  - {_cell(item)}" for item in items]
    return "\n".join(lines)


def render_machine(machine: dict, calibration: Sequence[Result]) -> str:
    load = ", ".join(str(x) for x in machine.get("load") or [])
    parts = [
        f"- Machine: {machine.get('cpu')}, {machine.get('cores')} cores, "
        f"{machine.get('ram_gb')} GB RAM, {machine.get('os')}, "
        f"Python {machine.get('python')}, PostgreSQL {machine.get('postgresql')}",
        f"- Commit `{machine.get('commit')}`, load average at start {load}"
        + (f", at end {machine['load_end']}" if machine.get("load_end") else ""),
    ]
    for result in calibration:
        parts.append(
            f"- Calibration: {result.path}: **{fmt(result.ours, result.metric)}** "
            f"(median of {len(result.runs)})"
        )
    return "\n".join(parts)


def render_block(
    *,
    mode: str,
    started: str,
    duration_s: float,
    machine: dict,
    calibration: Sequence[Result],
    reports: Sequence[dict],
    chart: str | None,
) -> str:
    failed = [r["benchmark"] for r in reports if r.get("failed")]
    missed = [
        f"{r['benchmark']}: {res.path}"
        for r in reports
        for res in r.get("results", [])
        if res.met is False
    ]
    summary = (
        f"Generated by `make bench{'-quick' if mode == 'quick' else ''}` "
        f"({mode} mode) at {started}, in {duration_s / 60:.1f} min. Every figure "
        "is the median of the runs; ratio = how many times better than the "
        "baseline ours is (above 1: faster or more per second), baseline timed "
        "in the same run."
    )
    if mode == "quick":
        summary += (
            " Quick mode uses small data: read the ratios, not the absolute "
            "figures, and not the targets (set for the full sizes)."
        )
    sections = [
        START,
        "<!-- generated by bench/run.py: edits between these markers are lost -->",
        "### Latest run",
        "",
        summary,
        "",
        render_machine(machine, calibration),
        "",
        render_table(reports),
        "",
    ]
    if failed:
        sections += [f"Failed: {', '.join(failed)} (see the run's log).", ""]
    if missed:
        sections += [f"Targets missed: {'; '.join(missed)}.", ""]
    notes = render_notes(reports)
    if notes:
        sections += ["Notes:", "", notes, ""]
    if chart:
        sections += [f"![Ratio to each baseline, per path]({chart})", ""]
    sections.append(END)
    return "\n".join(sections)


def replace_block(text: str, block: str, *, after: str | None = None) -> str:
    """`text` with the generated block replaced, or inserted when missing:
    after the line `after` (e.g. the intro's last line) or at the top."""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        return head + block + tail
    if after and after in text:
        head, tail = text.split(after, 1)
        return head + after + "\n\n" + block + "\n" + tail
    return block + "\n\n" + text


def chart_rows(reports: Sequence[dict]) -> list[tuple[str, float]]:
    """(label, ratio) for each result and baseline, in table order."""
    rows = []
    for report in reports:
        for result in report.get("results", []):
            for base, value in result.baselines.items():
                r = ratio(result.ours, value, higher_is_better=result.higher_is_better)
                if r:
                    rows.append((f"{report['benchmark']}: {result.path} / {base}", r))
    return rows


def write_chart(reports: Sequence[dict], path: str | os.PathLike) -> bool:
    """A horizontal bar per (path, baseline): our ratio, log scale, 1x marked.

    Written as SVG with matplotlib (the bench extra); False when there is
    nothing to draw."""
    rows = chart_rows(reports)
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: a small file
    from matplotlib import pyplot

    labels = [label if len(label) <= 70 else label[:67] + "..." for label, _ in rows]
    values = [value for _, value in rows]
    figure, axes = pyplot.subplots(figsize=(10, 0.32 * len(rows) + 1.2))
    colours = ["#2e7d32" if v >= 1 else "#c62828" for v in values]
    positions = range(len(rows))
    # Each bar runs from 1 (even) to the ratio, left for worse, right for better.
    axes.barh(
        list(positions),
        [abs(v - 1) for v in values],
        left=[min(v, 1) for v in values],
        color=colours,
    )
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlim(min(*values, 1) / 4, max(*values, 1) * 4)  # room for the labels
    axes.axvline(1, color="black", linewidth=0.8)
    axes.set_xlabel("ratio to the baseline (log scale; right of 1: ours is better)")
    for y, value in zip(positions, values, strict=True):
        axes.annotate(
            fmt_ratio(value), (value, y), xytext=(3 if value >= 1 else -3, 0),
            textcoords="offset points", va="center", fontsize=7,
            ha="left" if value >= 1 else "right",
        )  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    pyplot.close(figure)
    return True


# --- the scripts' command line ------------------------------------------------------


def add_bench_args(parser) -> None:
    """--json PATH and --quick, the options bench/run.py passes to every script."""
    parser.add_argument("--json", metavar="PATH", help="write the results there")
    parser.add_argument(
        "--quick", action="store_true", help="small data, few runs (about a minute)"
    )


def quick_defaults(args, **sizes: tuple[Any, Any]) -> None:
    """Fill the options left unset (None): `name=(full, quick)`."""
    for name, (full, quick) in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
