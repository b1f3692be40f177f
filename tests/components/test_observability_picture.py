"""docs/observability.svg is drawn by scripts/draw_dashboards.py from the widget definitions the
components deploy: a stale picture (layout changed, picture not redrawn) fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_picture_is_what_the_script_draws_now() -> None:
    spec = importlib.util.spec_from_file_location("draw_dashboards", ROOT / "scripts" / "draw_dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "observability.svg").read_text()
    assert committed == module.picture(), (
        "docs/observability.svg is stale: run `python scripts/draw_dashboards.py` and commit the picture"
    )


def test_the_docs_page_shows_the_picture() -> None:
    assert "![Dashboard layout](observability.svg)" in (ROOT / "docs" / "observability.md").read_text()
