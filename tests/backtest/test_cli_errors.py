"""Bad input: one clear line on stderr naming what is wrong, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.cli import main
from tests.backtest.helpers import record_session, write_config


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_session(tmp_path_factory.mktemp("data") / "paper.jsonl.gz", minutes=2)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "grid.yml", "paper_grid.yml")


def _fails(capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    rc = main([*args, "--no-store"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert expected in err
    assert "Traceback" not in err


def test_missing_config(capsys: pytest.CaptureFixture[str], session: Path) -> None:
    _fails(
        capsys, ["--config", "nope.yml", "--data", str(session)], "--config nope.yml: no such file"
    )


def test_missing_data_file(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    _fails(
        capsys, ["--config", str(config), "--data", "nope.jsonl.gz"], "nope.jsonl.gz: no such file"
    )


def test_parquet_is_refused_with_the_way_out(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1")
    _fails(capsys, ["--config", str(config), "--data", str(path)], "convert it to the CSV import")


def test_not_a_recording(capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    _fails(capsys, ["--config", str(config), "--data", str(path)], "bad.jsonl.gz:1: corrupt")


def test_naive_time(capsys: pytest.CaptureFixture[str], config: Path, session: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "--data", str(session), "--from", "2026-01-01T00:00"])
    assert exit_info.value.code == 2
    assert "has no timezone" in capsys.readouterr().err


def test_period_outside_the_data(
    capsys: pytest.CaptureFixture[str], config: Path, session: Path
) -> None:
    _fails(
        capsys,
        ["--config", str(config), "--data", str(session), "--to", "2026-02-01T00:00:00Z"],
        "is outside the data",
    )


def test_end_before_start(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    _fails(
        capsys,
        [
            "--config",
            str(config),
            "--data",
            "synthetic",
            "--from",
            "2026-01-02",
            "--to",
            "2026-01-01",
        ],
        "is not after --from",
    )


def test_synthetic_needs_a_period(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    _fails(capsys, ["--config", str(config), "--data", "synthetic"], "give --from and --to")


def test_a_venue_without_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, session: Path
) -> None:
    arb = write_config(tmp_path / "arb.yml", "paper_funding_arb.yml")
    _fails(capsys, ["--config", str(arb), "--data", str(session)], "no data for paper_a, paper_b")


def test_unknown_parameter(capsys: pytest.CaptureFixture[str], config: Path, session: Path) -> None:
    _fails(
        capsys,
        ["--config", str(config), "--data", str(session), "--param", "take_profitt=1,2"],
        "take_profitt",
    )


def test_bad_parameter_value(
    capsys: pytest.CaptureFixture[str], config: Path, session: Path
) -> None:
    _fails(
        capsys,
        ["--config", str(config), "--data", str(session), "--param", "max_orders=many"],
        "max_orders",
    )


def test_bad_fee(capsys: pytest.CaptureFixture[str], config: Path, session: Path) -> None:
    _fails(
        capsys,
        ["--config", str(config), "--data", str(session), "--fee", "paper=cheap"],
        "expected VENUE=MAKER:TAKER",
    )


def test_walk_forward_needs_params(
    capsys: pytest.CaptureFixture[str], config: Path, session: Path
) -> None:
    _fails(
        capsys,
        ["--config", str(config), "--data", str(session), "--walk-forward", "2"],
        "--walk-forward needs --param",
    )


def test_fill_ratio_out_of_range(
    capsys: pytest.CaptureFixture[str], config: Path, session: Path
) -> None:
    _fails(
        capsys,
        ["--config", str(config), "--data", str(session), "--fill-ratio", "1.5"],
        "expected a fraction in (0, 1]",
    )


def test_storing_into_an_uninitialised_database(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    session: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    rc = main(["--config", str(config), "--data", str(session), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "python -m database init" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before running, not after
