"""HTML reports: self-contained pages with their figures beside them, rendering in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.drills.run import run_drill
from sim.results.writer import write_run
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario
from sim.sweeps.executors import SerialExecutor
from sim.sweeps.report import write_sweep
from sim.sweeps.sweep import collect, parse_vary, plan_sweep, sweep_document

Load = Callable[..., Scenario]
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FAST = ("population.users=3000", "horizon=3h", "faults.0.at=1h")
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and Path(p).exists()), None)
# Written into a copy of the page, never the report itself: records each image's decoded
# size in the DOM, so --dump-dom shows whether the browser could load it.
PROBE = """<script>window.addEventListener('load', () => {
  for (const img of document.images) img.setAttribute('data-natural-width', img.naturalWidth);
  document.body.setAttribute('data-probed', document.images.length);
});</script>"""
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def run_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    s = load_scenario(SCENARIOS / "critical-bug-flag-disable.yaml", FAST)
    write_run(run_drill(s), out, html=True)
    return out


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    s = load_scenario(SCENARIOS / "critical-bug-flag-disable.yaml", FAST)
    plan = plan_sweep(s, 4, [parse_vary("responder.mode=human,automated")])
    rows = collect(plan, SerialExecutor())
    write_sweep(plan, sweep_document(plan, rows), rows, out, execution="serial (test)")
    return out


def test_run_report_is_self_contained_with_figures_beside_it(run_report: Path) -> None:
    """report.html inlines its figures and needs nothing from the network; the PNGs are
    also written beside it."""
    page = (run_report / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    assert not EXTERNAL.search(page) and "<script" not in page
    for name in ("incident.png", "timeline.png", "report.md", "summary.json"):
        assert (run_report / name).stat().st_size > 0, name
    for text in ("Drill report: critical-bug-flag-disable", "Metrics against the runbook",
                 "Timeline", "Journal", "decision"):
        assert text in page


def test_sweep_report_is_self_contained_with_figures_beside_it(sweep_report: Path) -> None:
    """The sweep page inlines the CDF and the parameter figure; PNG and SVG lie beside it."""
    page = (sweep_report / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    assert not EXTERNAL.search(page) and "<script" not in page
    for name in ("cdf.png", "cdf.svg", "vary-responder.mode.png", "vary-responder.mode.svg"):
        assert (sweep_report / name).stat().st_size > 0, name
    assert "Wilson score interval" in page and "Analytic cross-checks" in page


def test_run_without_html_writes_no_page(scenario: Load, tmp_path: Path) -> None:
    """``write_run(..., html=False)`` (``drill run --no-html``) skips the page and figures."""
    write_run(run_drill(scenario("critical-bug-flag-disable")), tmp_path, html=False)
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "timeline.png").exists()


def _chromium(tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp / 'profile'}",
         "--virtual-time-budget=5000", *extra, url],
        capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                    "(Debian: apt-get install chromium)")
@pytest.mark.parametrize("which", ["run", "sweep"])
def test_report_renders_in_headless_chromium(which: str, run_report: Path, sweep_report: Path,
                                             tmp_path: Path) -> None:
    """Chromium opens the page from disk with the network off: the headings are there and
    every figure decodes to a non-empty image."""
    source = run_report if which == "run" else sweep_report
    probed = tmp_path / "probed.html"
    probed.write_text((source / "report.html").read_text(encoding="utf-8")
                      .replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(tmp_path, probed.as_uri(), "--dump-dom")
    dom = proc.stdout
    assert "<h1>" in dom, proc.stderr[-2000:]
    assert ("Drill report" if which == "run" else "Sweep report") in dom
    widths = [int(w) for w in re.findall(r'data-natural-width="(\d+)"', dom)]
    assert re.search(r'data-probed="2"', dom) and len(widths) == 2
    assert all(w > 0 for w in widths)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                    "(Debian: apt-get install chromium)")
def test_report_screenshot_is_not_blank(run_report: Path, tmp_path: Path) -> None:
    """A screenshot of the run report shows more than a blank page."""
    image_module = pytest.importorskip("PIL.Image")
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, (run_report / "report.html").as_uri(),
                     f"--screenshot={shot}", "--window-size=1200,1400")
    assert shot.exists(), proc.stderr[-2000:]
    with image_module.open(shot) as img:
        colours = img.convert("L").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20
