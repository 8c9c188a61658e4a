"""Environment settings written to an env file that a launch script sources.

``env_file_fix(path, {"OMPI_ALLOW_RUN_AS_ROOT": "1", …})`` plans a whole-file edit (created when
absent) that sets each name with an ``export NAME=value`` line: a line that already sets the name
is replaced in place, other lines are kept, and a file that already holds every value gives no fix
at all (applying twice changes nothing).  Use it with ``set -a; . ./trtdiag.env; set +a`` or
``source ./trtdiag.env`` before the launch.
"""

from __future__ import annotations

import re
import shlex

from ..core.finding import Fix
from .plan import edit_fix

HEADER = "# written by trtdiag fix; source it before launching: . ./trtdiag.env\n"




def updated_text(before: str | None, values: dict[str, str]) -> str:
    lines = (before or HEADER).splitlines()
    done: set[str] = set()
    for i, line in enumerate(lines):
        m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", line)
        if m and m.group(1) in values:
            name = m.group(1)
            lines[i] = f"export {name}={shlex.quote(values[name])}"
            done.add(name)
    for name, value in values.items():
        if name not in done:
            lines.append(f"export {name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def env_file_fix(facts, fix_id: str, summary: str, path: str, values: dict[str, str]) -> Fix | None:
    """An edit fix setting ``values`` in the env file ``path``; None when it already does."""
    from ..core.errors import InputError

    try:
        before = facts.file_text(path, limit=1 << 20)
    except InputError:
        return None  # unreadable (a FIFO, a directory, not UTF-8): do not offer to overwrite it
    after = updated_text(before, values)
    if before == after:
        return None
    return edit_fix(fix_id, summary, path, before, after, safe=True,
                    note="source it in the launch script: set -a; . " + shlex.quote(path) + "; set +a")
