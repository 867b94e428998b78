"""A backtest's report: the analytics HTML page (with what was simulated) and the PNG chart."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

from analytics.charts import write_equity_png
from analytics.report import render_html
from backtest.result import BacktestResult


def _realism_section(result: BacktestResult) -> str:
    rows = "".join(
        f'<tr><td class="l">{html.escape(str(k))}</td><td class="l">{html.escape(str(v))}</td></tr>'
        for k, v in sorted(result.realism.items())
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    data = "".join(f"<li>{html.escape(d)}</li>" for d in result.data)
    stopped = f"<p>Stopped early: {html.escape(result.stopped_by)}</p>" if result.stopped_by else ""
    return (
        f"<h2>Backtest</h2><p>{html.escape(result.start.isoformat())} to "
        f"{html.escape(result.end.isoformat())}</p>{stopped}"
        f"<h3>Data</h3><ul>{data}</ul><h3>Simulated</h3><table>{rows}</table>"
        + (f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "")
    )


async def write_report(result: BacktestResult, out: Path, title: str) -> tuple[Path, Path]:
    assert result.performance is not None
    page = render_html(result.performance, result.equity, title)
    page = page.replace("</body>", _realism_section(result) + "</body>", 1)
    html_path = out / "report.html"
    await asyncio.to_thread(html_path.write_text, page, encoding="utf-8")
    png = await asyncio.to_thread(write_equity_png, out / "equity.png", result.equity, title)
    return html_path, png
