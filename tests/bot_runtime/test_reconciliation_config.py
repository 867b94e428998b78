"""``reconciliation.policy``: the default per venue kind, what ``--check`` shows, and a wrong
value refused in one line (through the real ``runbot.py``)."""

from __future__ import annotations

from pathlib import Path

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from bot_runtime.check import summarize
from tests.bot_configs import paper_grid_yaml
from tests.helpers import run_cli
from trading_config import load_config

MIXED = """\
name: recon-mixed
strategy:
  type: funding_arbitrage
  params:
    venues: [paper, hyperliquid]
    target_margin_usd: 100
exchanges:
  paper: {}
  hyperliquid:
    account: main
"""


def line_of(lines: list[str]) -> str:
    [line] = [line for line in lines if line.lstrip().startswith("reconciliation:")]
    return line.strip()


def test_real_venues_refuse_and_paper_adopts_unless_configured(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yml"
    path.write_text(MIXED)
    config = load_config(path)
    assert line_of(summarize(str(path), config)) == (
        "reconciliation: adopt on paper; refuse on hyperliquid"
    )
    path.write_text(MIXED + "reconciliation:\n  policy: cancel\n")
    config = load_config(path)
    assert config.reconciliation.policy_for("hyperliquid") == "cancel"
    assert line_of(summarize(str(path), config)) == (
        "reconciliation: cancel on paper; cancel on hyperliquid"
    )


def test_check_shows_the_policy(tmp_path: Path, migrated_db_url: str) -> None:
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("recon-check", extra="reconciliation:\n  policy: refuse\n"))
    result = run_cli(
        ["runbot.py", "--config", str(path), "--check"],
        tmp_path / "var",
        {"DATABASE_URL": migrated_db_url},
    )
    assert result.returncode == 0, result.stderr
    assert line_of(result.stdout.splitlines()) == "reconciliation: refuse on paper"


def test_an_unknown_policy_is_one_clear_line(tmp_path: Path, migrated_db_url: str) -> None:
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("recon-check", extra="reconciliation:\n  policy: ignore\n"))
    result = run_cli(
        ["runbot.py", "--config", str(path), "--check"],
        tmp_path / "var",
        {"DATABASE_URL": migrated_db_url},
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "reconciliation.policy" in line
    assert "'refuse', 'adopt' or 'cancel'" in line
    assert "Traceback" not in result.stderr
