"""``python -m bot_runtime.report``: a stopped bot's journal (a real paper runtime's) becomes an
HTML report and a PNG, on both databases; mistakes are one line and exit 2."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot_runtime.report import main
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from tests.bot_configs import paper_grid_yaml
from tests.bot_runtime.test_control_api_stats import _journal_fills
from trading_config.loader import load_config

D = Decimal


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("report-grid"))
    return path


async def _trade_and_stop(config_path: Path) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """A round trip (buy 0.002, sell 0.002) and one open lot (buy 0.001), then stop."""
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    try:
        assert runtime.stack is not None
        executor, tracker = runtime.stack.executors["paper"], runtime.stack.trackers["paper"]
        for side, size in (("buy", "0.002"), ("sell", "0.002"), ("buy", "0.001")):
            assert await executor.submit("BTC", side, D(size))  # type: ignore[arg-type]
            await tracker.flush()
        return await _journal_fills(runtime)
    finally:
        await runtime.shutdown()


async def test_report_of_a_stopped_bot(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fills = await _trade_and_stop(config_path)
    out = tmp_path / "reports"
    # main() runs its own event loop: call it from a thread, as the command line would.
    code = await asyncio.to_thread(main, ["report-grid", "--out", str(out)])
    assert code == 0
    # the last two lines (the runtime above logged to the console before)
    html, png = (Path(line) for line in capsys.readouterr().out.splitlines()[-2:])
    assert (html, png) == (out / "report-grid.html", out / "report-grid-equity.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    text = html.read_text(encoding="utf-8")
    assert "<title>perpfleet bot report-grid</title>" in text
    assert "<script" not in text
    # The fees of every fill, as the metric table shows them (2 decimals).
    fees = sum((fee for *_, fee in fills), D(0))
    assert f'<td class="l">  fees paid</td><td>{fees:,.2f}</td>' in text
    assert "open lots not marked: the report reads the journal only" in text
    assert re.search(r"<h2>Trades \(\d+\)</h2>", text)


def test_unknown_bot_and_bad_name(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ghost", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("no bot named 'ghost' in the database ")
    assert err.count("\n") == 1
    assert main(["Bad Name!"]) == 2
    assert "names are lowercase letters" in capsys.readouterr().err
    assert list(tmp_path.glob("*.html")) == []
