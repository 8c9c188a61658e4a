"""ENG005: Engine files are complete."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _engine, error, ok


@rule("ENG005", covers=("ENG001:not-a-plan",), area="engine", title="Engine files are complete", kb="engine-file-corrupt")
def engine_files(facts):
    """Every engine file is a whole TensorRT plan: not empty, not truncated (the header's size field,
    offset 16, equals the file's size), not some other file.

    Why: a copy that stopped half way, a full disk or a failed build leave files TensorRT refuses
    ("Serialization assertion plan.header.size == blobSize failed").
    Fix: copy or build the engine again and compare sizes (`ls -l`) with the source.
    """
    e = _engine(facts)
    if not e:
        return
    bad = [p for p in e.get("problems", []) if p["kind"] in ("empty", "truncated", "not-a-plan")]
    if not bad:
        # a Git LFS pointer is no engine at all: ENG004's finding, never "complete" here
        plans = [r for r in e.get("ranks") or [] if (r.get("header") or {}).get("kind") != "lfs-pointer"]
        if plans:
            yield ok(f"{len(plans)} engine file(s) complete", files=[f"{r['path']} ({r['size']:,} bytes)" for r in plans])
        return
    lines = []
    for p in bad:
        if p["kind"] == "empty":
            lines.append(f"{p['path']}: empty (0 bytes)")
        elif p["kind"] == "truncated":
            lines.append(f"{p['path']}: header says {p['size_field']:,} bytes, file has {p['size']:,}" if p.get("size_field") is not None
                         else f"{p['path']}: {p['size']} bytes, shorter than a plan header")
        else:
            lines.append(f"{p['path']}: not a TensorRT plan (starts with {p.get('magic')!r})")
    yield error(f"{len(bad)} engine file(s) empty, truncated or not a plan", lines[0] + ". TensorRT cannot load it; copy or "
                "build the engine again.", evidence={"files": lines})
