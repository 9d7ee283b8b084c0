"""``drill report RUN``: a past run's reports rendered again, from the run it records.

A run folder keeps the validated scenario (``scenario.json``) and its seed
(``summary.json``); a drill is deterministic, so running them again gives the run the
folder records — which is checked (``summary.json`` byte for byte, ``journal.jsonl`` but
for the run's temporary folder names) before anything is written. A folder this code no
longer reproduces (the model changed since) is refused rather than given reports that
do not match its numbers.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sim.drills.run import run_drill
from sim.errors import BadInput, OutputError
from sim.outdir import write_file
from sim.results.markdown import render_markdown
from sim.results.writer import summary
from sim.scenario.model import Scenario
from sim.tempdirs import PREFIXES

_TEMP = re.compile(r"[^\s\"']*(?:" + "|".join(map(re.escape, PREFIXES)) + r")\d+-[A-Za-z0-9_]+")


def rerender(scenario: Scenario, folder: Path, html: bool = True) -> list[Path]:
    """Write ``folder``'s ``report.md`` (and ``report.html`` with its figures) again;
    returns the paths written. Raises BadInput when the run does not reproduce."""
    text = (folder / "summary.json").read_text(encoding="utf-8")
    saved = json.loads(text)
    if "gameday" in saved:  # people's calls on the wall's clock: nothing to re-run
        raise BadInput(f"{folder}: a game day's results (people responded live), which "
                       "cannot be re-run; its report.md is the one it wrote")
    result = run_drill(scenario, saved["seed"])
    doc = summary(result)
    if json.dumps(doc, indent=2, sort_keys=True) + "\n" != text:  # as the writer writes it
        raise BadInput(f"{folder}: this code's run of its scenario.json at seed "
                       f"{saved['seed']} gives another summary.json than the folder's (the "
                       "model changed since); run it again with drill run instead")
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".drill-report-") as tmp:
            return _write(result, doc, Path(tmp), folder, html)
    except OSError as exc:  # a read-only folder, a full disk
        raise OutputError(f"cannot write reports into {folder}: {exc}") from None


def _write(result: Any, doc: dict[str, Any], stage: Path, folder: Path, html: bool
           ) -> list[Path]:
    """Check the journal reproduces, then write report.md (and the HTML report)."""
    result.journal.write(stage / "journal.jsonl")
    journal = folder / "journal.jsonl"
    if journal.is_file() and _masked(journal) != _masked(stage / "journal.jsonl"):
        raise BadInput(f"{folder}: the run reproduces summary.json but not journal.jsonl; "
                       "run it again with drill run instead")
    write_file(folder / "report.md", render_markdown(result, doc))
    written = [folder / "report.md"]
    if html:
        written += _html(result, doc, stage, folder)
    return written


def _masked(journal: Path) -> str:
    """The journal with the run's temporary folders (``<TMPDIR>/drill-db-<pid>-…``, named
    after the process that ran it: ``sim.tempdirs``) masked, the one thing two runs of a
    scenario and seed may journal differently."""
    return _TEMP.sub("<tmp>", journal.read_text(encoding="utf-8"))


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
