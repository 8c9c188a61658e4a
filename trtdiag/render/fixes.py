"""The fixes `trtdiag fix` proposes: as previews on a terminal, or as JSON (schema trtdiag.fixes/1)."""

from __future__ import annotations

import json

SCHEMA = "trtdiag.fixes/1"


def json_text(pairs) -> str:
    """``pairs``: (finding, fix) in the order they are proposed."""
    return json.dumps({"schema": SCHEMA, "fixes": [dict(fx.to_dict(), finding=f.check) for f, fx in pairs]}, indent=2) + "\n"


def terminal(pairs, color: bool = False, width: int | None = None) -> str:
    from .terminal import wrap

    out = []
    for f, fx in pairs:
        head = f"{fx.id} ({f.check}): {fx.summary}" + ("" if fx.safe else "  [review first]") + (f"  [needs {fx.requires}]" if fx.requires else "")
        out.extend((("\x1b[1m" + ln + "\x1b[0m") if color else ln) for ln in wrap(head, width, "", "    "))
        out.extend("    " + line for line in fx.preview.splitlines())
        out.append("")
    return "\n".join(out) + ("\n" if out else "")
