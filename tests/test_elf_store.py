"""What the ELF readers and the library children answered, kept between runs under each file's
identity (probes/elf_store.py, probes/answer_cache.py), on Debian's real Open MPI and hwloc
libraries: the next run reads nothing again, a changed file is read again, a damaged store is
ignored, TRTDIAG_NO_CACHE keeps nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LIBDIR = Path("/usr/lib/x86_64-linux-gnu") if os.uname().machine == "x86_64" else Path("/usr/lib/aarch64-linux-gnu")
HWLOC = LIBDIR / "libhwloc.so.15"
PAL = LIBDIR / "libopen-pal.so.40"
pytestmark = pytest.mark.skipif(not (HWLOC.exists() and PAL.exists()), reason="Debian's libhwloc15 / libopenmpi3 not installed")

# Each answer in a fresh process, as one check after another.  With READERS_FAIL the readers of
# the file itself raise: an answer can then only come from the store.
CODE = r"""
import json, os, sys
from trtdiag.probes import elf, elf_dyn, elf_store
if os.environ.get("READERS_FAIL"):
    def fail(*a, **k):
        raise AssertionError("the file was read again")
    elf._symbols = elf._read = elf_dyn._load_facts = fail
    elf_dyn._verneed = elf_dyn._verdef = fail
lib = sys.argv[1]
s = elf.symbols(lib, ("hwloc_",))
out = {"defined": sorted(s.defined), "undefined": sorted(s.undefined), "count": s.count,
       "needed": elf.read(lib).needed, "bind_now": elf_dyn.load_facts(lib, ("hwloc_",)).bind_now,
       "verneed": elf_dyn.version_needs(lib), "verdef": elf_dyn.version_defs(lib)}
elf_store.flush()
print(json.dumps(out))
"""


def answer(lib: Path, cache: Path, **env) -> dict:
    e = {k: v for k, v in os.environ.items() if k != "TRTDIAG_NO_CACHE"}
    e.update(TRTDIAG_CACHE_DIR=str(cache), PYTHONPATH=str(REPO), **env)
    p = subprocess.run([sys.executable, "-c", CODE, str(lib)], env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def test_second_run_reads_no_library(tmp_path):
    cache = tmp_path / "cache"
    first = answer(PAL, cache)
    assert "hwloc_topology_init" in first["undefined"] and first["needed"]  # Debian: hwloc is external
    assert (cache / "elf-facts.json").is_file()
    assert answer(PAL, cache, READERS_FAIL="1") == first


def test_a_changed_library_is_read_again(tmp_path):
    cache, lib = tmp_path / "cache", tmp_path / "libhwloc.so.15"
    shutil.copy2(HWLOC, lib)
    first = answer(lib, cache)
    assert "hwloc_topology_init" in first["defined"]
    # replaced by another library under the same name (an upgrade): the kept answer no longer applies
    shutil.copy2(PAL, lib.with_suffix(".new"))
    os.replace(lib.with_suffix(".new"), lib)
    p = subprocess.run([sys.executable, "-c", CODE, str(lib)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "TRTDIAG_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO), "READERS_FAIL": "1"})
    assert p.returncode != 0 and "the file was read again" in p.stderr
    assert answer(lib, cache) == answer(PAL, tmp_path / "other-cache")


def test_a_damaged_store_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    good = answer(HWLOC, tmp_path / "clean")
    cache.mkdir()
    for junk in ("{not json", json.dumps({"schema": 1, "facts": "nope"}), json.dumps([1, 2]),
                 json.dumps({"schema": 1, "facts": {k: {"defined": 5} for k in ["x"]}})):
        (cache / "elf-facts.json").write_text(junk)
        assert answer(HWLOC, cache) == good


def test_a_damaged_entry_for_the_file_is_read_again(tmp_path):
    cache = tmp_path / "cache"
    good = answer(HWLOC, cache)
    data = json.loads((cache / "elf-facts.json").read_text())
    data["facts"] = {k: ({"defined": 5} if k.startswith("symbols:") else v) for k, v in data["facts"].items()}
    (cache / "elf-facts.json").write_text(json.dumps(data))
    assert answer(HWLOC, cache) == good


def test_no_cache_keeps_nothing(tmp_path):
    cache = tmp_path / "cache"
    answer(HWLOC, cache, TRTDIAG_NO_CACHE="1")
    assert not (cache / "elf-facts.json").exists()


@pytest.mark.skipif(shutil.which("ompi_info") is None, reason="Debian's openmpi-bin not installed")
def test_ompi_info_answer_is_kept(tmp_path):
    """The version ompi_info prints is asked once per ompi_info file."""
    code = "import json, sys; from trtdiag.probes import mpi; print(json.dumps(mpi.ompi_info_version(sys.argv[1])))"
    # the same, with every child process refused: only the kept answer can speak
    no_child = ("import json, sys; from trtdiag import proc; from trtdiag.probes import mpi\n"
                "def refuse(*a, **k):\n    raise AssertionError('a child process was started')\n"
                "proc.run = refuse\nprint(json.dumps(mpi.ompi_info_version(sys.argv[1])))")
    env = {**os.environ, "TRTDIAG_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    env.pop("TRTDIAG_NO_CACHE", None)
    libmpi = str(LIBDIR / "libmpi.so.40")
    first = json.loads(subprocess.run([sys.executable, "-c", code, libmpi], env=env, capture_output=True, text=True, timeout=60).stdout)
    assert first.get("version")
    kept = json.loads((tmp_path / "cache" / "library-answers.json").read_text())["answers"]
    assert any(k.startswith("ompi-info-version|") for k in kept)
    again = subprocess.run([sys.executable, "-c", no_child, libmpi], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr[-1500:]
    assert json.loads(again.stdout) == first
