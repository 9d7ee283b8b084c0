"""Output folders are complete or absent, and temporary folders never outlive their
process: the rules of ``sim.outdir`` and ``sim.tempdirs``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import BadInput, OutputError
from sim.outdir import check_out_dir, check_out_file, staged_dir, write_file
from sim.tempdirs import make_temp_dir, pid_alive, remove_all, sweep_stale


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_a_result_appears_in_one_rename_with_no_incomplete_marker(tmp_path: Path) -> None:
    """A new folder is published whole: only its files, no INCOMPLETE, no staging left."""
    target = tmp_path / "runs" / "r1"
    with staged_dir(target, "summary.json") as stage:
        assert (stage / "INCOMPLETE").exists() and not target.exists()
        (stage / "series.csv").write_text("t\n")
        (stage / "summary.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["series.csv", "summary.json"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["r1"]


def test_rewriting_a_folder_never_leaves_the_old_marker_beside_new_files(tmp_path: Path
                                                                         ) -> None:
    """Into a folder that holds files: the old marker goes first, the new comes last, and
    files the writer does not own stay."""
    target = tmp_path / "r1"
    target.mkdir()
    (target / "summary.json").write_text("old")
    (target / "notes.txt").write_text("mine")
    with staged_dir(target, "summary.json") as stage:
        (stage / "summary.json").write_text("new")
        (stage / "series.csv").write_text("t\n")
    assert (target / "summary.json").read_text() == "new"
    assert (target / "notes.txt").read_text() == "mine"


def test_a_failed_write_leaves_neither_the_folder_nor_its_staging(tmp_path: Path) -> None:
    """An OSError while writing (a full disk) is an OutputError, and nothing is left."""
    target = tmp_path / "r1"
    with pytest.raises(OutputError, match="No space"), staged_dir(target, "summary.json") as s:
        (s / "summary.json").write_text("{}")
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_dead_writers_staging_folder_is_removed_by_the_next_write(tmp_path: Path) -> None:
    """``.<name>.partial-<pid>`` of a process that is gone goes; a live one's stays."""
    dead = tmp_path / f".r1.partial-{_dead_pid()}"
    live = tmp_path / f".r1.partial-{os.getppid()}"
    dead.mkdir()
    live.mkdir()
    with staged_dir(tmp_path / "r1", "summary.json") as stage:
        (stage / "summary.json").write_text("{}")
    assert not dead.exists() and live.exists()


def test_a_file_is_replaced_whole(tmp_path: Path) -> None:
    """``write_file`` leaves the old text or the new, and no temporary file."""
    path = tmp_path / "baseline.json"
    path.write_text("old")
    write_file(path, "new")
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("make", ["file", "under-file", "long-name"])
def test_an_output_path_that_cannot_be_a_folder_is_bad_input(tmp_path: Path, make: str
                                                             ) -> None:
    """A file, a path under a file, a name past NAME_MAX: BadInput, nothing created."""
    (tmp_path / "f").write_text("")
    path = {"file": tmp_path / "f", "under-file": tmp_path / "f" / "out",
            "long-name": tmp_path / ("n" * 250)}[make]
    with pytest.raises(BadInput):
        check_out_dir(path)
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_an_output_file_that_is_a_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="is a directory"):
        check_out_file(tmp_path, "--junit")


def test_temp_folders_carry_their_pid_and_go_with_their_process(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """``drill-db-<pid>-…``: removed by ``remove_all`` (atexit, SIGTERM); a dead
    process's are swept, a live process's are kept."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    mine = make_temp_dir("drill-db-")
    assert mine.name.startswith(f"drill-db-{os.getpid()}-") and mine.parent == tmp_path
    remove_all()
    assert not mine.exists()
    dead = tmp_path / f"drill-repo-{_dead_pid()}-abc"
    live = tmp_path / f"drill-repo-{os.getppid()}-abc"
    other = tmp_path / "drill-repo-nopid"
    for folder in (dead, live, other):
        folder.mkdir()
    assert sweep_stale(tmp_path) == [dead]
    assert live.exists() and other.exists() and not pid_alive(_dead_pid())
