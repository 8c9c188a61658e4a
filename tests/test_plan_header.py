"""The plan header layer (over trtdiag.parsers.plan) on real plans (tests/data/engines/plans) and crafted headers."""

from __future__ import annotations

import os
import struct
import time

import pytest

from trtdiag.core.errors import InputError
from trtdiag.parsers import plan_header

from tests.conftest import DATA

# the three real plans copied from shared/fixtures/engines (sources: tests/data/engines/plans/SOURCES.json)
ENGINES = DATA / "engines" / "plans"


def crafted(size: int = 4096, version: bytes = bytes([8, 6, 1, 6]), tag: int = 0, size_field: int | None = None) -> bytes:
    """An 'ftrt' header laid out as the real 8.6.1.6 plan's, padded to ``size`` bytes."""
    head = b"ftrt" + b"\0" * 4 + struct.pack("<Q", 1) + struct.pack("<Q", size if size_field is None else size_field)
    head += version + struct.pack("<I", tag) + b"NGNE"
    return head + b"\0" * (size - len(head))


# ------------------------------------------------------------------ real plans: what MANIFEST.md states
def test_real_trt_8_6_plan_reads_its_version_size_and_platform():
    h = plan_header.read(ENGINES / "trt8.6.1.6_hackathon2023_model.plan")
    assert h["kind"] == "plan" and h["magic"] == "ftrt"
    assert h["version"] == "8.6.1.6"
    assert h["size_field"] == h["size"] == 3228 and h["truncated"] is False
    assert h["platform_tag"] == 0 and h["serialization_tag"] == 1953657958


def test_real_pre_8_6_ptrt_plan_reads_the_release_its_archive_records():
    h = plan_header.read(ENGINES / "ptrt_jetson2021_ppo_model.trt")
    # a 'ptrt' plan records its release as the archive's first four u8 fields (7.1.3.0 here) and
    # its serialization version (97, the field TensorRT 8.x runtimes print for such plans)
    assert h["kind"] == "ptrt" and h["version"] == "7.1.3.0" and h["serialization_version"] == 97
    # the number TensorRT 11.4 prints for it: "incompatible serialization version (1953657968 != …)"
    assert h["serialization_tag"] == 1953657968


def test_real_lfs_pointer_is_not_a_plan():
    h = plan_header.read(ENGINES / "lfs-pointer_model.plan")
    assert h["kind"] == "lfs-pointer" and h["version"] is None and "git lfs pull" in h["version_reason"]
    assert h["serialization_tag"] == 1936876918  # 'vers', as TensorRT 11.4 reports it


# ------------------------------------------------------------------ crafted headers
def test_release_bytes_of_any_ftrt_release_are_read():
    # bytes 24..27 hold the release in 8.6 and 10.x plans alike (real 10.3/10.6/10.15 plans,
    # trtexec's printPlanVersion); with no engine section to compare, that is what is known
    h = plan_header.parse(crafted(version=bytes([10, 0, 1, 6])), 4096)
    assert h["version"] == "10.0.1.6" and h["candidate_version"] == "10.0.1.6"


def test_size_field_differing_from_file_size_is_truncation():
    h = plan_header.parse(crafted(size=4096, size_field=9000), 4096)
    assert h["truncated"] is True and "9,000" in plan_header.describe(h)


def test_platform_tag_is_read():
    h = plan_header.parse(crafted(tag=7), 4096)
    assert h["platform_tag"] == 7 and not plan_header.is_loadable_shape(h) and plan_header.is_foreign_platform(h)


@pytest.mark.parametrize("tag", [0, int.from_bytes(b"rtrt", "little")])
def test_platform_tags_the_runtime_accepts_are_not_foreign(tag):
    # 0 (8.6 plans) and 'rtrt' (10.x plans): the 11.4 runtime lets both through (variants tag28=0/rtrt)
    h = plan_header.parse(crafted(tag=tag), 4096)
    assert not plan_header.is_foreign_platform(h) and plan_header.is_loadable_shape(h)


@pytest.mark.parametrize("data,kind", [(b"", "empty"), (os.urandom(64).replace(b"f", b"g"), "not-a-plan"), (b"ftrt\0\0", "plan")])
def test_odd_files(data, kind):
    h = plan_header.parse(data[:64], len(data))
    assert h["kind"] == kind
    if kind == "plan":
        assert h["truncated"] is True and h["version"] is None


def test_directory_or_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        plan_header.read(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        plan_header.read(tmp_path / "nope.engine")


def test_header_read_of_20gb_sparse_engine_is_as_fast_as_1mb(tmp_path):
    """Reads the first bytes only: a 20 GB sparse file costs what a 1 MB one does."""
    small, big = tmp_path / "small.engine", tmp_path / "big.engine"
    for p, size in ((small, 1 << 20), (big, 20 << 30)):
        with open(p, "wb") as fh:
            fh.write(crafted(size=64, size_field=size))
        os.truncate(p, size)

    def best(p):
        t = []
        for _ in range(20):
            t0 = time.perf_counter()
            plan_header.read(p)
            t.append(time.perf_counter() - t0)
        return min(t)

    h = plan_header.read(big)
    assert h["size"] == 20 << 30 and h["truncated"] is False
    assert best(big) < 2 * best(small) + 0.001
