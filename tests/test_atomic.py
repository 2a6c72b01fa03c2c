"""One atomic-write helper (simulator/atomic.py) behind every file critmin writes outside
run folders: reports, sweep files and figures, saved app tweaks, figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.atomic import atomic_write, write_text_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.html"
    write_text_atomic(target, "old")

    def half_then_full_disk(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, half_then_full_disk)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_figures_are_written_atomically(tmp_path: Path, monkeypatch) -> None:
    """save_figure goes through atomic_write: a figure that fails to render leaves no file
    (before: a half-written PNG under its final name)."""
    from matplotlib.figure import Figure

    from simulator.viz import curves

    fig = Figure()
    fig.subplots().plot([0, 1], [0, 1])

    def broken(path, **_kwargs):  # half a PNG, then the disk is full
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\n half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(OSError):
        curves.save_figure(fig, tmp_path / "fill_rate")
    assert list(tmp_path.iterdir()) == []
