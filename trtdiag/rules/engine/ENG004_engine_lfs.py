"""ENG004: No Git LFS pointers where engines or weights should be."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _engine, error, os


@rule("ENG004", covers=("ENG001:not-a-plan",), area="engine", title="No Git LFS pointers where engines or weights should be", kb="engine-lfs-pointer")
def engine_lfs(facts):
    """Small text files beginning 'version https://git-lfs' where an engine or weight file should be.

    Why: a clone without `git lfs pull` leaves ~130-byte pointer files; TensorRT reads 'vers' as the
    magic: "Trying to load an engine created with incompatible serialization version (1936876918 != …)".
    Fix: `git lfs install && git lfs pull` in the repository that holds them (or download the real files).
    """
    e = _engine(facts)
    if not e:
        return
    ptrs = [p for p in e.get("problems", []) if p["kind"] == "lfs-pointer"]
    if not ptrs:
        return
    paths = [p["path"] for p in ptrs]
    repo_dir = os.path.dirname(paths[0])
    yield error(f"{len(ptrs)} Git LFS pointer file(s) instead of the real engine/weights",
                f"{paths[0]} is a {ptrs[0]['size']}-byte Git LFS pointer, not the file it names: the repository was cloned "
                f"without fetching LFS objects. Fetch them: cd {repo_dir} && git lfs install && git lfs pull",
                evidence={"pointers": paths})
