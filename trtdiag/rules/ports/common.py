"""Port checks (PRT0xx): can tritonserver bind its HTTP, gRPC and metrics ports?

Shared helpers of the ports rules (one rule a file beside this one)."""

from __future__ import annotations

from ...core.finding import error, ok, warning

from ...derive.ports import command_line

def _who(h) -> str:
    if not h:
        return "an unknown process"
    if not h.get("pid"):
        return "a process this user cannot see"
    cmd = " ".join(command_line(h["cmdline"]).split()) if h.get("cmdline") else h.get("name") or "?"
    if len(cmd) > 160:
        cmd = cmd[:157] + "…"
    return f"PID {h['pid']} ({h.get('name')}, user {h.get('user') or '?'}: {cmd})"
