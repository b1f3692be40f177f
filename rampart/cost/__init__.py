"""Fixed monthly cost of a plan at AWS list prices: what is billed whatever the traffic.

- `table`: the dated, region-aware price table (`prices.json`), each price with its source page.
- `engine`: what each resource type costs (or why it costs nothing fixed), per resource and owner.
- `summary`: the environment's and each service's figure, as `rampart plan`, its `--json` and the
  evidence report show them.
"""
from rampart.cost.engine import NOT_FIXED, PRICED_TYPES, fixed_lines, gaps, task_lines, config_lines
from rampart.cost.summary import annotate, entries, estimate, render_text
from rampart.cost.table import UnpricedRegion, load_table

__all__ = ["NOT_FIXED", "PRICED_TYPES", "UnpricedRegion", "annotate", "config_lines", "entries", "estimate",
           "fixed_lines", "gaps", "load_table", "render_text", "task_lines"]
