"""Every start-up failure of ``runbot.py`` is one line and a non-zero exit, never a traceback.

Why (issue 14 item 11): a ticker the venue does not list ended in a ``UnknownSymbol``
traceback from deep in the grid's start (and ``--check`` said OK), Ctrl-C in the first second
printed a ``KeyboardInterrupt`` traceback. The real ``runbot.py`` as a subprocess; only a bug
may show a traceback, and then the last line says so.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot_runtime import cli
from bot_runtime.runtime import BotRuntime
from tests.bot_configs import paper_grid_yaml
from tests.helpers import PROJECT_ROOT, cli_env, run_cli

ARB = """\
name: arb-symbols
strategy:
  type: funding_arbitrage
  params:
    venues: [paper_a, paper_b]
    symbols: [BTC, NOPE]
    target_margin_usd: 100
exchanges:
  paper_a: {}
  paper_b: {}
"""


def lines(text: str) -> list[str]:
    """What a person reads on stderr: the lines that are not JSON log records."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("{")]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.yml"
    path.write_text(text)
    return path


def test_check_names_a_ticker_the_paper_venue_does_not_list(tmp_path: Path) -> None:
    config = write(tmp_path, paper_grid_yaml("ticker-check").replace("ticker: BTC", "ticker: BTX"))
    result = run_cli(["runbot.py", "--config", str(config), "--check"], tmp_path / "var")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}:6: strategy.params.ticker: paper does not list BTX (did you mean 'BTC'?); "
        "it lists BTC, DOGE, ETH, SOL"
    ]


def test_check_names_a_pair_symbol_no_two_venues_list(tmp_path: Path) -> None:
    config = write(tmp_path, ARB)
    result = run_cli(["runbot.py", "--config", str(config), "--check"], tmp_path / "var")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}:6: strategy.params.symbols[1]: NOPE must be listed on at least 2 of "
        "paper_a, paper_b to be traded; listed on none"
    ]


def test_an_unlisted_ticker_stops_the_start_with_one_line(
    tmp_path: Path, migrated_db_url: str
) -> None:
    config = write(tmp_path, paper_grid_yaml("ticker-run").replace("ticker: BTC", "ticker: NOPE"))
    result = run_cli(
        ["runbot.py", "--config", str(config)], tmp_path / "var", {"DATABASE_URL": migrated_db_url}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert lines(result.stderr) == [
        "ticker-run: strategy.params.ticker: paper does not list NOPE; it lists BTC, DOGE, ETH, SOL"
    ]


def test_a_control_port_in_use_is_one_line(tmp_path: Path, migrated_db_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write(
            tmp_path,
            paper_grid_yaml("port-run", extra=f"control_api:\n  enabled: true\n  port: {port}\n"),
        )
        result = run_cli(
            ["runbot.py", "--config", str(config)],
            tmp_path / "var",
            {"DATABASE_URL": migrated_db_url},
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert lines(result.stderr) == [
        f"port-run: control API could not listen on 127.0.0.1:{port} (port in use? see the "
        "log): pick another port or stop what uses it"
    ]


@pytest.mark.parametrize("delay", [0.2, 0.5, 0.8, 1.1])
def test_ctrl_c_in_the_first_second_is_one_line(
    tmp_path: Path, migrated_db_url: str, delay: float
) -> None:
    config = write(tmp_path, paper_grid_yaml("interrupted"))
    process = subprocess.Popen(
        [sys.executable, "runbot.py", "--config", str(config)],
        cwd=PROJECT_ROOT,
        env=cli_env(tmp_path / "var", {"DATABASE_URL": migrated_db_url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    assert '"exception"' not in err  # no traceback in a log record either
    if process.returncode == cli.EXIT_INTERRUPTED:  # before the bot was built
        assert lines(err) == ["runbot.py: interrupted while starting; the bot did not start"]
    else:  # during its start: it stops as soon as it is up, as on any first Ctrl-C
        assert process.returncode == 0
        assert lines(err) == []


def test_a_bug_is_a_traceback_in_the_log_and_one_line_saying_so(
    tmp_path: Path,
    migrated_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def broken(self: BotRuntime) -> None:
        raise RuntimeError("a bug in the start")

    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    monkeypatch.setattr(BotRuntime, "start", broken)  # stands in for a real bug
    config = write(tmp_path, paper_grid_yaml("buggy"))
    code = cli.main(["--config", str(config), "--log-json"])
    assert code == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert '"exception"' in err  # the traceback, in the log
    assert "RuntimeError: a bug in the start" in err
    assert lines(err)[-1] == (
        "runbot.py: unexpected error (a bug): RuntimeError: a bug in the start; "
        "its traceback is in the log above"
    )
