"""bench/report.py: the result format and the generated block of docs/performance.md."""

import argparse

import pytest

from bench.report import (
    END,
    START,
    Result,
    chart_rows,
    median,
    quick_defaults,
    ratio,
    read_results,
    render_block,
    render_table,
    replace_block,
    write_chart,
    write_results,
)


def test_ratio__time__baseline_over_ours():
    assert ratio(2.0, 3.0, higher_is_better=False) == 1.5


def test_ratio__rate__ours_over_baseline():
    assert ratio(2400.0, 3000.0, higher_is_better=True) == 0.8


@pytest.mark.parametrize("ours, baseline", [(None, 1.0), (1.0, None), (0.0, 2.0)])
def test_ratio__missing_or_zero__none(ours, baseline):
    assert ratio(ours, baseline, higher_is_better=True) is None


def test_median__even_count__mean_of_middle_two():
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_median__no_values__raises():
    with pytest.raises(ValueError):
        median([])


def test_write_results__read_back__same_results(tmp_path):
    # Given a result written by a script
    result = Result(
        path="membership check",
        metric="requests/s",
        higher_is_better=True,
        ours=2400.0,
        runs=[2390.0, 2400.0, 2410.0],
        baselines={"plain Django view": 3000.0},
        target="≥ 75% of plain Django view",
        met=True,
        extra={"p99 ms": 12.3},
    )
    path = tmp_path / "api.json"
    write_results(path, benchmark="api", title="API", results=[result], notes=["n"])

    # When the runner reads it back
    data = read_results(path)

    # Then nothing is lost
    assert data["benchmark"] == "api" and data["notes"] == ["n"]
    assert data["results"] == [result]


def test_render_table__two_baselines__one_row_each_with_ratio():
    report = {
        "benchmark": "imports",
        "results": [
            Result(
                path="1M rows",
                metric="s",
                ours=10.0,
                baselines={"SQL": 8.0, "import-export": 1000.0},
                target="≤ 2x SQL",
                met=True,
            )
        ],
    }
    lines = render_table([report]).splitlines()[2:]
    assert lines == [
        "| imports | 1M rows | 10.0 s | SQL | 8.00 s | 0.80x | ≤ 2x SQL | yes |",
        "| | | | import-export | 1,000 s | 100x | | |",
    ]


def test_render_table__failed_benchmark__row_says_failed():
    table = render_table([{"benchmark": "api", "failed": "exit status 1"}])
    assert "| api | **failed**: exit status 1 |" in table


def test_render_table__skipped_benchmark__row_says_not_run():
    table = render_table([{"benchmark": "api", "skipped": "not on this branch"}])
    assert "| api | not run: not on this branch | - |" in table


def test_render_table__pipe_in_path__escaped():
    report = {"benchmark": "b", "results": [Result(path="a|b", metric="s", ours=1.0)]}
    assert "a\\|b" in render_table([report])


def test_render_block__missed_target__listed():
    report = {
        "benchmark": "events",
        "results": [Result(path="batch", metric="events/s", ours=1.0, met=False)],
    }
    block = render_block(
        mode="quick",
        started="now",
        duration_s=60,
        machine={"cpu": "x", "load": [1.0]},
        calibration=[Result(path="SELECT 1", metric="/s", ours=5000.0, runs=[1.0])],
        reports=[report],
        chart="img/bench.svg",
    )
    assert block.startswith(START) and block.endswith(END)
    assert "Targets missed: events: batch." in block
    assert "![Ratio to each baseline, per path](img/bench.svg)" in block
    assert "SELECT 1: **5,000 /s**" in block


def test_replace_block__markers_present__only_block_replaced():
    text = f"# Performance\n\nintro\n\n{START}\nold\n{END}\n\n## Mine\nkept\n"
    new = replace_block(text, f"{START}\nnew\n{END}")
    assert new == f"# Performance\n\nintro\n\n{START}\nnew\n{END}\n\n## Mine\nkept\n"


def test_replace_block__no_markers__inserted_after_given_line():
    text = "# Performance\n\nintro.\n\n## Mine\nkept\n"
    new = replace_block(text, f"{START}\nnew\n{END}", after="intro.")
    assert new == f"# Performance\n\nintro.\n\n{START}\nnew\n{END}\n\n\n## Mine\nkept\n"


def test_chart_rows__rate_and_time__ratios_in_table_order():
    reports = [
        {
            "benchmark": "a",
            "results": [
                Result(path="p", metric="s", ours=2.0, baselines={"b": 4.0}),
                Result(
                    path="q",
                    metric="/s",
                    ours=2.0,
                    higher_is_better=True,
                    baselines={"c": 4.0, "none": 0.0},
                ),
            ],
        }
    ]
    assert chart_rows(reports) == [("a: p / b", 2.0), ("a: q / c", 0.5)]


def test_quick_defaults__unset_options__filled_by_mode():
    args = argparse.Namespace(quick=True, customers=None, repeat=7)
    quick_defaults(args, customers=(1_000_000, 20_000), repeat=(5, 3))
    assert (args.customers, args.repeat) == (20_000, 7)


def test_write_chart__one_ratio__svg_with_its_label(tmp_path):
    pytest.importorskip("matplotlib")  # the bench extra
    report = {
        "benchmark": "imports",
        "results": [Result(path="1M rows", metric="s", ours=2.0, baselines={"SQL": 1})],
    }
    path = tmp_path / "bench.svg"
    assert write_chart([report], path)
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "imports: 1M rows / SQL" in svg
    assert "0.50x" in svg


def test_write_chart__no_baselines__nothing_written(tmp_path):
    report = {"benchmark": "b", "results": [Result(path="p", metric="s", ours=1.0)]}
    assert not write_chart([report], tmp_path / "bench.svg")
    assert not (tmp_path / "bench.svg").exists()
