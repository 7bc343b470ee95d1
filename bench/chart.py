"""The PNG chart of a benchmark run: one bar per timed figure, drawn as SVG and turned
into PNG by the same Debian chromium the browser tests use (skipped without it)."""

import html
import shutil
from pathlib import Path

TIMED = {"s": 1.0, "ms": 0.001}
ROW, LABEL_W, BAR_W = 26, 560, 380


def chart_svg(results: list[dict]) -> str:
    rows = [r for r in results if r.get("unit") in TIMED and r.get("value") is not None]
    peak = max((r["value"] * TIMED[r["unit"]] for r in rows), default=1.0) or 1.0
    height = ROW * len(rows) + 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + BAR_W + 120}" height="{height}" '
             'font-family="DejaVu Sans, sans-serif" font-size="13">',
             '<rect width="100%" height="100%" fill="#fff"/>',
             '<text x="10" y="22" font-size="16" font-weight="bold">Gatehouse benchmarks (seconds, linear)</text>']
    for n, row in enumerate(rows):
        y = 40 + n * ROW
        seconds = row["value"] * TIMED[row["unit"]]
        width = max(1, round(BAR_W * seconds / peak))
        label = html.escape(f"{row['benchmark']}: {row['figure']}")[:80]
        parts += [f'<text x="10" y="{y + 15}">{label}</text>',
                  f'<rect x="{LABEL_W}" y="{y + 3}" width="{width}" height="16" fill="#4f7cac"/>',
                  f'<text x="{LABEL_W + width + 6}" y="{y + 15}">{row["value"]:.3g} {row["unit"]}</text>']
    parts.append("</svg>")
    return "\n".join(parts)


def chart_png(results: list[dict], path: Path) -> str:
    """Write the chart as PNG (and SVG beside it); returns a note on what was written."""
    svg = chart_svg(results)
    path.with_suffix(".svg").write_text(svg)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        return "chart.svg written; no chromium for the PNG (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
        page.locator("svg").screenshot(path=str(path))
        browser.close()
    return f"{path.name} written"
