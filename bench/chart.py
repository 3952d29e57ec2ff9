"""Draw the figures people compare as one SVG of grouped horizontal bars (no plotting library).

Each chart compares our figure with its baseline measured in the same run (and a published peer
figure where one exists); ``make bench`` writes ``bench/results.svg`` next to the JSON.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

#: (title, unit, [(label, figure name or a fixed published number)]).
Chart = tuple[str, str, list[tuple[str, str | float]]]

CHARTS: list[Chart] = [
    (
        "Match 50 addresses in the sandbox (1M contacts), lower is better",
        "ms",
        [
            ("one query (ours)", "sandbox.match50_batched_ms"),
            ("one query each", "sandbox.match50_naive_ms"),
        ],
    ),
    (
        "Match the 31 addresses of an email, lower is better",
        "ms",
        [
            ("one query (ours)", "resolve.match_31_batched_ms"),
            ("one query each", "resolve.match_31_naive_ms"),
        ],
    ),
    (
        "Open an email with 31 people in the pane: CRM round trips, lower is better",
        "",
        [
            ("batched (ours)", "pane.crm_round_trips_31_addresses"),
            ("per address and contact", "pane.crm_round_trips_31_naive"),
        ],
    ),
    (
        "Resolve an email with 50 people in Dynamics 365 (50 ms a round trip), lower is better",
        "ms",
        [
            ("batched (ours)", "dynamics.resolve_50_addresses_batched_ms"),
            ("one query per address", "dynamics.resolve_50_addresses_naive_ms"),
        ],
    ),
    (
        "Resolve an email with 50 people in Dynamics 365: round trips, lower is better",
        "",
        [
            ("batched (ours)", "dynamics.resolve_50_addresses_batched_round_trips"),
            ("one query per address", "dynamics.resolve_50_addresses_naive_round_trips"),
        ],
    ),
    (
        "Resolve an email with 50 people in Salesforce (50 ms a round trip), lower is better",
        "ms",
        [
            ("batched (ours)", "salesforce.resolve_50_addresses_batched_ms"),
            ("one query per address", "salesforce.resolve_50_addresses_naive_ms"),
        ],
    ),
    (
        "Save emails to the sandbox CRM, 2 worker processes: saves/s, higher is better",
        "/s",
        [
            ("Redis queue", "saving.sandbox.redis_saves_per_s"),
            ("filesystem queue", "saving.sandbox.filesystem_saves_per_s"),
            ("in-process loop", "saving.sandbox.direct_saves_per_s"),
        ],
    ),
    (
        "Save emails to Dynamics 365 (50 ms a round trip), 2 workers: saves/s, higher is better",
        "/s",
        [
            ("Redis queue", "saving.dynamics.redis_saves_per_s"),
            ("filesystem queue", "saving.dynamics.filesystem_saves_per_s"),
            ("in-process loop", "saving.dynamics.direct_saves_per_s"),
        ],
    ),
    (
        "Signature lines, forge: F1, higher is better",
        "",
        [
            ("Sidepane", "signature.forge.line_f1"),
            ("talon (published)", 0.851),
            ("naive rule", "signature.forge.baseline.line_f1"),
        ],
    ),
    (
        "Signature lines, quagga test: F1, higher is better",
        "",
        [
            ("Sidepane", "signature.quagga_test.line_f1"),
            ("talon (published)", 0.48),
            ("naive rule", "signature.quagga_test.baseline.line_f1"),
        ],
    ),
    (
        "Signature lines, quagga eval: F1, higher is better",
        "",
        [
            ("Sidepane", "signature.quagga_eval.line_f1"),
            ("talon (published)", 0.45),
            ("naive rule", "signature.quagga_eval.baseline.line_f1"),
        ],
    ),
]

WIDTH, LABEL, BAR_H, GAP = 640, 170, 18, 6
COLOURS = ("#0f6cbd", "#8a8886", "#c8c6c4")


def draw(results: dict[str, float], target: Path) -> bool:
    """Write the SVG for every chart whose figures are all present; tell whether any was drawn."""
    parts: list[str] = []
    y = 10
    for title, unit, bars in CHARTS:
        values = [(label, results.get(v) if isinstance(v, str) else v) for label, v in bars]
        if any(value is None for _, value in values):
            continue
        top = max(float(value or 0) for _, value in values) or 1.0
        parts.append(f'<text x="0" y="{y + 12}" font-weight="600">{escape(title)}</text>')
        y += 20
        for index, (label, value) in enumerate(values):
            length = (WIDTH - LABEL - 80) * float(value or 0) / top
            colour = COLOURS[min(index, len(COLOURS) - 1)]
            parts.append(f'<text x="0" y="{y + 13}">{escape(label)}</text>')
            parts.append(
                f'<rect x="{LABEL}" y="{y}" width="{length:.1f}" height="{BAR_H}" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{LABEL + length + 6:.1f}" y="{y + 13}">{value:.3g} {unit}</text>'
            )
            y += BAR_H + GAP
        y += 14
    if not parts:
        return False
    target.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" '
        f'font-family="Segoe UI, sans-serif" font-size="12">'
        f'<rect width="100%" height="100%" fill="#fff"/>{"".join(parts)}</svg>\n'
    )
    return True
