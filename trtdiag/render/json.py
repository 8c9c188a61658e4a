"""A report as JSON: the versioned schema ``trtdiag.report/1`` (docs/json-schema.md)."""

from __future__ import annotations

import json

from ..core.finding import Report


def json_text(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, default=str) + "\n"
