"""The repository's tests stand on the repository alone: a fresh clone without ../shared runs them.

What a user saw: on a clone without ../shared, `bash .ci/run` stopped at collection
(FileNotFoundError … shared/fixtures/engines/trt8.6.1.6_hackathon2023_model.plan).  Every real file
the tests read is copied into tests/data, with its source named there.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import GPU_DATA, H100_NVML, PLANS, REPO, TEMPLATES_V090, TRT_RUNTIME

CODE = sorted(p for p in [*REPO.glob("tests/*.py"), REPO / ".ci" / "run"] if p.name != "test_repo_alone.py")


def _code(line: str) -> str:
    """The line without its comment (a comment may name a source)."""
    return line.split("#", 1)[0] if not line.lstrip().startswith(("'", '"')) else line


def test_no_test_reads_the_shared_folder_beside_the_checkout():
    bad = []
    for path in CODE:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.\./shared|shared/fixtures|\"shared\"|'shared'", _code(line)):
                bad.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_the_copied_fixtures_are_in_the_repository_with_their_sources():
    for d in (TEMPLATES_V090.parent, GPU_DATA, PLANS, TRT_RUNTIME):
        assert d.is_dir(), d
        assert any(d.glob("README.md")) or any(d.glob("MANIFEST*")), f"{d}: no README/MANIFEST naming the source"
    assert H100_NVML.is_file()
    assert "shared/fixtures/gpu/h100-80gb_nvml_torch-holding-10GiB.json" in (GPU_DATA / "README.md").read_text()
    assert len(list(TEMPLATES_V090.glob("*/config.pbtxt"))) == 5
    for name in ("lfs-pointer_model.plan", "ptrt_jetson2021_ppo_model.trt", "trt8.6.1.6_hackathon2023_model.plan"):
        assert (PLANS / name).is_file(), name
