"""The fleet's private files: written whole, owner-only, nothing left behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fleet.layout import FleetLayout, write_private


def test_a_reader_holding_the_old_file_reads_it_whole(tmp_path: Path) -> None:
    """supervisord rereads files concurrent launches rewrite: the new text replaces the file in
    one step, so a reader that opened it before still reads the old text, never a truncation."""
    path = tmp_path / "supervisord.conf"
    write_private(path, "[supervisord]\nold\n")
    with path.open() as reader:
        write_private(path, "[supervisord]\nnew\n")
        assert reader.read() == "[supervisord]\nold\n"
    assert path.read_text() == "[supervisord]\nnew\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["supervisord.conf"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "programs" / "bot-a.conf"
    write_private(path, "kept")
    with pytest.raises(TypeError):
        write_private(path, b"not text")  # type: ignore[arg-type]
    assert path.read_text() == "kept"
    assert [p.name for p in path.parent.iterdir()] == ["bot-a.conf"]


def test_the_rpc_password_is_created_once_and_kept(tmp_path: Path) -> None:
    layout = FleetLayout(tmp_path)
    first = layout.rpc_password()
    assert len(first) >= 24
    assert FleetLayout(tmp_path).rpc_password() == first
    assert stat.S_IMODE(layout.password_file.stat().st_mode) == 0o600


def test_keeping_an_existing_file_is_first_writer_wins(tmp_path: Path) -> None:
    path = tmp_path / "rpc_password"
    write_private(path, "first", replace=False)
    write_private(path, "second", replace=False)
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["rpc_password"]
