"""Draw the dashboards' layout (rampart/components/observability.py) as docs/observability.svg.

The picture is generated from the same widget definitions the components deploy, with placeholder
dimension values; tests/components/test_observability_picture.py fails when the committed picture is
not what this script writes now. Run from the repository root:

    python scripts/draw_dashboards.py            # rewrite docs/observability.svg
"""

from __future__ import annotations

import sys
from html import escape
from pathlib import Path

from rampart.components.observability import (
    GRID_COLUMNS,
    Expression,
    Metric,
    MetricWidget,
    ServiceMetrics,
    environment_dashboard,
    service_widgets,
)

PICTURE = Path(__file__).resolve().parent.parent / "docs" / "observability.svg"
CELL_W, CELL_H, GAP, TITLE_H = 30, 14, 4, 28


def _example_service() -> list[MetricWidget]:
    """A service in `nginx` ingress mode behind an environment with a WAF: every widget shown."""
    return service_widgets(ServiceMetrics(
        alb_arn_suffix="ALB", target_group_arn_suffix="TG", cluster_name="CLUSTER", service_name="SERVICE",
        region="REGION", access_log_namespace="Rampart/Proxy/SERVICE", web_acl_metric_name="ACL",
    ))


def _shown(expression: str, label: str) -> str:
    """Metric math as written; a metric search (too long for a box) by what it finds."""
    return f"each sidecar's {label}" if expression.startswith("SEARCH(") else expression


def _panel(title: str, widgets: list[MetricWidget], top: int) -> tuple[list[str], int]:
    rows = max(w.y + w.height for w in widgets)
    out = [f'<text x="{GAP}" y="{top + 18}" class="h">{escape(title)}</text>']
    for w in widgets:
        x, y = GAP + w.x * CELL_W, top + TITLE_H + w.y * CELL_H
        width, height = w.width * CELL_W - GAP, w.height * CELL_H - GAP
        names = sorted({line.name for line in w.lines if isinstance(line, Metric)} |
                       {_shown(line.expression, line.label) for line in w.lines if isinstance(line, Expression)})
        out.append(f'<rect x="{x}" y="{y}" width="{width}" height="{height}" class="w"/>')
        out.append(f'<text x="{x + 8}" y="{y + 18}" class="t">{escape(w.title)}</text>')
        for i, name in enumerate(names[:3]):
            out.append(f'<text x="{x + 8}" y="{y + 38 + 14 * i}" class="m">{escape(name)}</text>')
    return out, top + TITLE_H + rows * CELL_H + GAP


def picture() -> str:
    environment, _ = environment_dashboard("ALB", "CLUSTER", "REGION", "ACL")
    parts, top = _panel("Environment dashboard (service chosen in its toolbar; sidecars of every service)", environment, 0)
    env, bottom = _panel("A service's own dashboard (opt-in: `dashboard: true`; nginx ingress, WAF on)",
                         _example_service(), top + 10)
    width = GRID_COLUMNS * CELL_W + GAP
    style = (".h{font:bold 15px sans-serif}.t{font:bold 12px sans-serif}.m{font:10px monospace;fill:#444}"
             ".w{fill:#f3f6fa;stroke:#7a8ca3}")
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{bottom}" viewBox="0 0 {width} {bottom}">',
        f"<style>{style}</style>",
        f'<rect width="{width}" height="{bottom}" fill="white"/>',
        *parts, *env, "</svg>", "",
    ])


if __name__ == "__main__":
    PICTURE.write_text(picture())
    print(f"wrote {PICTURE.name}", file=sys.stderr)
