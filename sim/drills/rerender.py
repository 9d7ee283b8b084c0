"""``drill report RUN``: a past run's reports rendered again, from the run it records.

A run folder keeps the validated scenario (``scenario.json``) and its seed
(``summary.json``); a drill is deterministic, so running them again gives the run the
folder records — which is checked (``summary.json`` and ``journal.jsonl`` byte for byte)
before anything is written. A folder this code no longer reproduces (the model changed
since) is refused rather than given reports that do not match its numbers.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sim.drills.run import run_drill
from sim.errors import BadInput, OutputError
from sim.outdir import write_file
from sim.results.markdown import render_markdown
from sim.results.writer import summary
from sim.scenario.model import Scenario


def rerender(scenario: Scenario, folder: Path, html: bool = True) -> list[Path]:
    """Write ``folder``'s ``report.md`` (and ``report.html`` with its figures) again;
    returns the paths written. Raises BadInput when the run does not reproduce."""
    saved = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    result = run_drill(scenario, saved["seed"])
    doc = summary(result)
    if doc != saved:
        raise BadInput(f"{folder}: this code's run of its scenario.json at seed "
                       f"{saved['seed']} gives another summary.json than the folder's (the "
                       "model changed since); run it again with drill run instead")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".drill-report-") as tmp:
        stage = Path(tmp)
        result.journal.write(stage / "journal.jsonl")
        journal = folder / "journal.jsonl"
        if journal.is_file() and journal.read_bytes() != (stage / "journal.jsonl").read_bytes():
            raise BadInput(f"{folder}: the run reproduces summary.json but not journal.jsonl; "
                           "run it again with drill run instead")
        write_file(folder / "report.md", render_markdown(result, doc))
        written = [folder / "report.md"]
        if html:
            written += _html(result, doc, stage, folder)
    return written


def _html(result: object, doc: dict[str, object], stage: Path, folder: Path) -> list[Path]:
    """Render report.html and its figures in ``stage``, then move each into ``folder``
    (report.html last, so it never points at figures not yet there)."""
    from sim.results.html import write_run_html

    (stage / "journal.jsonl").unlink()
    write_run_html(result, doc, stage)
    moved = []
    try:
        for entry in sorted(stage.iterdir(), key=lambda p: p.name == "report.html"):
            os.replace(entry, folder / entry.name)
            moved.append(folder / entry.name)
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc}") from None
    return moved
