"""A small server-rendered SVG bar chart: no JavaScript, no CDN."""

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT, BAR = 210, 60, 12


def sync_chart_svg(days) -> str:
    """Seven days of synced records (grey) and failures (red), as inline SVG."""
    peak = max([d.synced for d in days] + [d.failed for d in days] + [1])
    step = WIDTH // len(days)
    bars = []
    for n, day in enumerate(days):
        x = n * step + 4
        synced_h = round((HEIGHT - 14) * day.synced / peak)
        failed_h = round((HEIGHT - 14) * day.failed / peak)
        bars.append((x, HEIGHT - 12 - synced_h, synced_h, x + BAR + 1, HEIGHT - 12 - failed_h, failed_h,
                     x, HEIGHT - 1, day.day.strftime("%a"),
                     f"{day.day:%a %d %b}: {day.synced} synced, {day.failed} failed"))
    body = format_html_join(
        "",
        '<g><title>{9}</title><rect class="synced" x="{0}" y="{1}" width="12" height="{2}"></rect>'
        '<rect class="failed" x="{3}" y="{4}" width="6" height="{5}"></rect>'
        '<text x="{6}" y="{7}">{8}</text></g>',
        bars,
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="Synced records and failures, last 7 days">{}</svg>',
        WIDTH, HEIGHT, WIDTH, HEIGHT, body,
    )
