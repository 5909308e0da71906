"""The JSON Schemas generated from shared/contracts/ (`npm run gen:schemas`), shipped in `schemas/`.

The zod schemas in TypeScript are the one definition of each contract; Python reads what it needs
(defaults, bounds, allowed values) from these files instead of keeping a second copy.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).parent / "schemas"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The generated schema `schemas/<name>.json` (e.g. `model-settings`)."""
    data: dict[str, Any] = json.loads((SCHEMAS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data
