"""Reports a person can read: calendar time beside virtual seconds, long journal lists
given as a count, one data-loss figure with its definition, a missed target without a
value apart from what is not measured, the runbook estimate in both formats, and a
page's error-rate line drawn only where the window holds enough of its views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.drills.run import run_drill
from sim.results import figures
from sim.results.markdown import LIST_SHOWN
from sim.results.writer import write_run
from sim.scenario.loader import load_scenario
from sim.world.page_loads import SERIES

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FAST = ("population.users=5000", "horizon=3h", "faults.0.at=1h", "monitoring.alert.threshold=12")


@pytest.fixture(scope="module")
def database_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The no-backup database drill (data loss, a 700-item altered list) with reports."""
    out = tmp_path_factory.mktemp("db")
    s = load_scenario(SCENARIOS / "database-rollback-no-backup.yaml", FAST)
    write_run(run_drill(s, 7), out, html=True)
    return out


def test_timeline_rows_give_calendar_time_beside_virtual_seconds(database_report: Path
                                                                 ) -> None:
    """The scenario starts 2026-01-25T13:00Z, so the fault at 1 h reads 14:00:00."""
    md = (database_report / "report.md").read_text()
    page = (database_report / "report.html").read_text()
    assert "| 3600.0 s · Jan 25 14:00:00 | fault_started |" in md
    assert "3600.0 s · Jan 25 14:00:00" in page


def test_a_long_journal_list_is_a_count_in_the_reports(database_report: Path) -> None:
    """A list longer than LIST_SHOWN items (the contacts the rollback found altered) is
    shown as its count and first items; no report line holds the whole list."""
    md = (database_report / "report.md").read_text()
    assert "items: ct_" in md and "(all in journal.jsonl)" in md
    assert max(len(line) for line in md.splitlines()) < 2000
    row = next(line for line in md.splitlines() if "| rollback_completed |" in line)
    assert row.count("ct_") <= 2 * LIST_SHOWN


def test_one_data_loss_figure_with_its_definition(database_report: Path) -> None:
    """The Data loss section gives the metric's figure, what it counts and its parts; the
    rollback's own integrity check, when it counted otherwise, is named as such."""
    md = (database_report / "report.md").read_text()
    section = md.split("## Data loss", 1)[1].split("\n## ", 1)[0]
    table_row = next(line for line in md.splitlines() if line.startswith("| Data loss |"))
    figure = table_row.split("|")[2].strip().split()[0]
    assert f"Data loss: {figure} writes — each contact's latest acknowledged write" in section
    others = [line for line in section.splitlines() if line.startswith("- ")][1:]
    assert all(line.startswith("- The rollback's own integrity check") for line in others)


def test_a_target_missed_without_a_value_is_not_listed_as_not_measured(tmp_path: Path
                                                                       ) -> None:
    """No alert fired (a rule that never sees the fault): detection, decision and rollback
    are missed targets, apart from the metrics the scenario does not measure."""
    s = load_scenario(SCENARIOS / "alert-no-data.yaml", FAST)
    write_run(run_drill(s, 7), tmp_path, html=False)
    md = (tmp_path / "report.md").read_text()
    missed = md.split("## Targets missed with no value", 1)[1].split("\n## ", 1)[0]
    absent = md.split("## Not measured", 1)[1].split("\n## ", 1)[0]
    assert "Time to detect:" in missed and "Time to detect:" not in absent
    assert "Data loss:" in absent and "Data loss:" not in missed


def test_the_html_report_says_whether_the_rollback_was_within_the_estimate(
        database_report: Path) -> None:
    """Both formats carry the 'within / slower than the runbook's estimate' verdict."""
    md = (database_report / "report.md").read_text()
    page = (database_report / "report.html").read_text()
    verdict = "within the runbook&#x27;s estimate" if "within the runbook's estimate" in md \
        else "slower than the runbook&#x27;s upper estimate"
    assert verdict in page


def test_a_pages_error_rate_is_not_drawn_over_a_handful_of_its_views() -> None:
    """After a rollback the new page gets a few stale views, all faulty: its rate over
    those is not drawn (it read as a failed rollback); over enough views it is."""
    n = 120
    series = {name: np.zeros(n) for name in ("t", *SERIES)}
    series["t"] = np.arange(n) * 10.0
    series["pageviews_old"][:] = 200
    series["pageviews_new"][:60] = 100
    series["errors_new"][:60] = 10
    series["pageviews_new"][60:] = 1  # stale renders after the rollback
    series["errors_new"][60:] = 1
    fig = figures.timeline(series, {"fault_started": 0.0}, 10.0, 300.0, None)
    new = next(line for line in fig.axes[1].get_lines() if line.get_label().startswith("new"))
    y = np.asarray(new.get_ydata(), dtype=float)
    assert np.isfinite(y[:60]).all() and np.isnan(y[90:]).all()


def test_the_one_screen_summary_says_it_is_one_sample(database_report: Path) -> None:
    """A single run is one seed: the summary says so and how to get P(meet target)."""
    import json

    from sim.results.markdown import render_terminal

    doc = json.loads((database_report / "summary.json").read_text())
    text = render_terminal(doc)
    assert "one seed, one sample" in text and "drill sweep" in text and "--runs" in text
