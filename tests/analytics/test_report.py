"""The HTML report is one self-contained file; the PNG chart is a real PNG."""

from __future__ import annotations

import re
import struct
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from xml.etree import ElementTree

from analytics.charts import equity_png, write_equity_png
from analytics.performance import analyse
from analytics.records import EquityPoint, FillRecord
from analytics.report import render_html, write_html

T0 = datetime(2026, 1, 30, tzinfo=UTC)
FILLS = [
    FillRecord(T0, "paper", "BTC", "buy", D("100"), D("1"), D("0.1")),
    FillRecord(T0 + timedelta(hours=5), "paper", "BTC", "sell", D("90"), D("1"), D("0.1")),
    FillRecord(T0 + timedelta(days=2), "paper", "<b>X</b>", "sell", D("10"), D("1")),
]
EQUITY = [
    EquityPoint(T0 + timedelta(days=i), D(v)) for i, v in enumerate(["1000", "1100", "990", "1089"])
]


def test_report_holds_every_section_and_fetches_nothing(tmp_path: Path) -> None:
    perf = analyse(FILLS, equity=EQUITY)
    path = write_html(tmp_path / "out" / "report.html", perf, EQUITY, "grid <demo>")
    text = path.read_text(encoding="utf-8")
    for section in ("Equity", "Metrics", "Monthly returns", "Trades (1)", "Per venue",
                    "Per symbol"):  # fmt: skip
        assert f"<h2>{section}</h2>" in text
    # no script and nothing loaded from elsewhere: only the SVG namespace names a URL
    assert "<script" not in text
    assert re.findall(r"(?:src|href)=", text) == []
    assert set(re.findall(r"https?://[^\"' ]+", text)) == {"http://www.w3.org/2000/svg"}
    # both panels drawn and valid SVG
    svgs = re.findall(r"<svg.*?</svg>", text, flags=re.S)
    parsed = [ElementTree.fromstring(s) for s in svgs]  # noqa: S314 - our own output
    assert [svg.get("aria-label") for svg in parsed] == [
        "equity curve",
        "drawdown",
    ]
    # values: the one trade lost 10 + 0.2 fees; Feb -10% (990 / 1100), Jan +10%; 110 deepest
    assert "<td>-10.20</td>" in text
    assert '<td class="l">2026-01</td><td>10.00%</td>' in text
    assert '<td class="l">2026-02</td><td>-1.00%</td>' in text
    assert "drawdown, deepest 110.00" in text
    # user-supplied names are escaped
    assert "grid &lt;demo&gt;" in text
    assert "<b>X</b>" not in text
    assert "&lt;b&gt;X&lt;/b&gt;" in text


def test_report_without_records_says_so() -> None:
    text = render_html(analyse([]), [], "empty")
    assert "No equity curve: fewer than two equity points." in text
    assert "No closed trades." in text
    assert "No equity points." in text
    assert "no closed trades" in text  # the win-rate note


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_chart(tmp_path: Path) -> None:
    path = write_equity_png(tmp_path / "equity.png", EQUITY, "demo")
    assert _png_size(path.read_bytes()) == (900, 550)
    assert _png_size(equity_png([], "nothing")) == (900, 550)


def test_analytics_does_not_load_matplotlib_until_a_chart_is_drawn() -> None:
    import subprocess

    code = "import analytics.report, analytics.performance, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
