"""MPI checks MPI001–MPI005, the MPI probes and the ELF reader.

Real: Debian's Open MPI, hwloc and hwloc plugin ELF files, this venv's mpi4py, `ompi_info`,
`mpirun` on localhost, gcc.  Constructed (and said so in each test): small shared libraries
compiled here with gcc that need (or define) ``opal_hwloc201_hwloc_get_type_depth``, put on
LD_LIBRARY_PATH; a venv without mpi4py holding a tensorrt_llm .dist-info; include-dir and PATH
overrides that hide mpicc/mpi.h.  Test doubles: the GPU inventory (a recorded H100 NVML reading)
and the engine facts (set directly, the engine area's contract).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import Facts
from trtdiag.core.finding import Severity
from trtdiag.probes import elf

from tests.conftest import H100_NVML, REPO, run_cli, run_json

LIBDIR = Path("/usr/lib/x86_64-linux-gnu") if os.uname().machine == "x86_64" else Path("/usr/lib/aarch64-linux-gnu")
HAVE_OMPI = (LIBDIR / "libmpi.so.40").exists() and shutil.which("ompi_info") is not None
HAVE_GCC = shutil.which("gcc") is not None
try:
    import mpi4py  # noqa: F401  (only to know whether the real-mpi4py tests can run)

    HAVE_MPI4PY = True
except ImportError:  # pragma: no cover
    HAVE_MPI4PY = False

needs_ompi = pytest.mark.skipif(not HAVE_OMPI, reason="needs Debian's Open MPI (openmpi-bin, libopenmpi-dev)")
needs_gcc = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
needs_mpi4py = pytest.mark.skipif(not HAVE_MPI4PY, reason="needs mpi4py")


def mpi4py_abi_wheel() -> bool:
    """The installed mpi4py registers MPI ABIs (the PyPI wheel: it dlopens libmpi.so first) —
    a source build loads its extension's NEEDED libmpi.so.40 instead."""
    if not HAVE_MPI4PY:
        return False
    import mpi4py

    return "_mpiabi._register(" in (Path(mpi4py.__file__).read_text())


def run_check(check_id: str, facts: Facts):
    registry.load_all()
    return engine_run.run_one(registry.CHECKS[check_id], facts)


def by_id(report: dict, cid: str) -> list[dict]:
    return [f for f in report["findings"] if f["id"] == cid]


def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "HWLOC_PLUGINS_PATH", "OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM")}
    env.update(extra)
    return env


# ----------------------------------------------------------------------------- ELF reader
@needs_ompi
@pytest.mark.parametrize("name", ["libopen-pal.so.40", "libmpi.so.40", "libhwloc.so.15", "hwloc/hwloc_pci.so"])
def test_elf_reader_agrees_with_pyelftools_on_real_libraries(name):
    """Real Debian ELF files: the struct reader and pyelftools give the same dynamic tables."""
    path = LIBDIR / name
    if not path.exists():
        pytest.skip(f"{path} not installed")
    assert elf.read(path) == elf.read_pyelftools(path)
    a, b = elf.symbols(path), elf.symbols_pyelftools(path)
    assert (a.defined, a.undefined, a.count) == (b.defined, b.undefined, b.count)
    assert a.defined or a.undefined


@needs_ompi
def test_debian_open_mpi_uses_the_system_hwloc():
    """Real: Debian builds Open MPI with --with-hwloc=external: libopen-pal NEEDs libhwloc.so.15
    and leaves hwloc_* undefined; libhwloc defines them; no opal_hwloc*_ prefix anywhere."""
    pal = LIBDIR / "libopen-pal.so.40"
    assert "libhwloc.so.15" in elf.read(pal).needed
    s = elf.symbols(pal, ("opal_hwloc", "hwloc_"))
    assert "hwloc_get_type_depth" in s.undefined or any(n.startswith("hwloc_") for n in s.undefined)
    hw = elf.symbols(LIBDIR / "libhwloc.so.15", ("hwloc_",))
    assert {n for n in s.undefined if n.startswith("hwloc_")} <= hw.defined


@pytest.mark.parametrize("data", [b"", b"hello world, not an ELF file at all" * 3, b"\x7fELF\x02\x01\x01" + b"\0" * 60])
def test_elf_reader_rejects_bad_files_with_one_line(tmp_path, data):
    p = tmp_path / "libbad.so"
    p.write_bytes(data)
    with pytest.raises(elf.ElfError) as ei:
        elf.symbols(p)
    assert str(p) in str(ei.value) and "\n" not in str(ei.value)


@needs_ompi
def test_truncated_real_library_is_an_error_not_a_crash(tmp_path):
    """Constructed: the first 4 KiB of Debian's libopen-pal (header intact, tables cut off)."""
    p = tmp_path / "libopen-pal.so.40"
    p.write_bytes((LIBDIR / "libopen-pal.so.40").read_bytes()[:4096])
    with pytest.raises(elf.ElfError):
        elf.read(p)


# ----------------------------------------------------------------------------- healthy install
@needs_ompi
@needs_mpi4py
def test_healthy_debian_open_mpi_passes_with_evidence():
    """Real: this machine's Open MPI + mpi4py. MPI001/MPI002 pass, naming paths and versions."""
    version = subprocess.run(["ompi_info", "--version"], capture_output=True, text=True, timeout=20).stdout.split()[2].lstrip("v")
    code, rep = run_json("check", "--only", "mpi", env=base_env())
    assert code == 0
    assert [f["severity"] for f in rep["findings"]] == ["ok", "ok"], rep["findings"]
    m1, m2 = by_id(rep, "MPI001")[0], by_id(rep, "MPI002")[0]
    assert "libmpi.so.40" in m1["evidence"]["libmpi"] and "ld.so.cache" in m1["evidence"]["libmpi"]
    assert version in m1["evidence"]["MPI"] and "libhwloc.so.15" in m1["evidence"]["libhwloc"]
    assert m1["evidence"]["plugins checked"] >= 1
    assert "libmpi.so" in m2["evidence"]["libmpi"] and version in m2["title"]
    # nothing about root, world size or builds on a plain single-GPU check
    assert {"MPI003", "MPI004", "MPI005", "BLD001"}.isdisjoint(f["id"] for f in rep["findings"])


@needs_ompi
@needs_mpi4py
def test_runtime_probe_reads_only_the_mpi_libraries():
    """Real: the probe reads .dynsym of a handful of libraries (its time is printed by
    benchmarks/bench_check.py, not asserted here: a loaded CI machine is no stopwatch)."""
    f = Facts()
    rt = f["mpi.runtime"]
    assert isinstance(rt["duration_ms"], (int, float))
    read = [os.path.basename(p) for p in rt["hwloc"]["read"]]
    assert len(read) <= 8 and not any(n.startswith(("libc.so", "libm.so", "libz")) for n in read)


@needs_ompi
@needs_mpi4py
def test_real_mpirun_ranks_load_the_libmpi_the_probe_predicted(tmp_path):
    """Real: `mpirun -n 2` on localhost; each rank reports the libmpi mapped into it, which is
    the one mpi.runtime predicted."""
    rt = Facts()["mpi.runtime"]
    script = tmp_path / "rank.py"
    script.write_text(textwrap.dedent("""
        from mpi4py import MPI
        import json, os
        libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libmpi.so' in l})
        rank = MPI.COMM_WORLD.Get_rank()
        # one file per rank: ranks' stdout lines may interleave through mpirun
        with open(os.path.join(os.path.dirname(__file__), f"rank{rank}.json"), "w") as fh:
            json.dump({"rank": rank, "size": MPI.COMM_WORLD.Get_size(), "libmpi": [os.path.realpath(p) for p in libs]}, fh)
    """))
    argv = ["mpirun", "-n", "2", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else []) + [sys.executable, str(script)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=base_env(OMPI_MCA_plm_rsh_agent=""))
    assert p.returncode == 0, p.stderr
    ranks = [json.loads(f.read_text()) for f in sorted(tmp_path.glob("rank*.json"))]
    assert sorted(r["rank"] for r in ranks) == [0, 1] and all(r["size"] == 2 for r in ranks)
    assert all(rt["libmpi"]["realpath"] in r["libmpi"] for r in ranks)


# ----------------------------------------------------------------------------- hwloc conflict
MPI_C = """
extern int opal_hwloc201_hwloc_get_type_depth(void *topology, int type);
int MPI_Init(int *argc, char ***argv) { return opal_hwloc201_hwloc_get_type_depth(0, 0); }
"""
PAL_C = "int opal_hwloc201_hwloc_get_type_depth(void *topology, int type) { return 0; }\n"
PLUGIN_C = """
extern int hwloc_not_in_any_hwloc_symbol(void);
int hwloc_fake_component_init(void) { return hwloc_not_in_any_hwloc_symbol(); }
"""


@pytest.fixture(scope="module")
def conflict_libs(tmp_path_factory):
    """Constructed with gcc: bad/libmpi.so.40 needs opal_hwloc201_hwloc_get_type_depth and nothing
    defines it (linked -z now, as hardened builds are, so the loader binds it at load time);
    good/libmpi.so.40 NEEDs good/libopen-pal.so.40, which defines it (an embedded hwloc)."""
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    d = tmp_path_factory.mktemp("hwloc-conflict")
    (d / "mpi.c").write_text(MPI_C)
    (d / "pal.c").write_text(PAL_C)
    (d / "bad").mkdir()
    (d / "good").mkdir()
    cc = ["gcc", "-shared", "-fPIC", "-Wl,-z,now"]
    subprocess.run(cc + ["-o", str(d / "bad/libmpi.so.40"), "-Wl,-soname,libmpi.so.40", str(d / "mpi.c")], check=True)
    subprocess.run(cc + ["-o", str(d / "good/libopen-pal.so.40"), "-Wl,-soname,libopen-pal.so.40", str(d / "pal.c")], check=True)
    subprocess.run(cc + ["-o", str(d / "good/libmpi.so.40"), "-Wl,-soname,libmpi.so.40", str(d / "mpi.c"),
                         "-L" + str(d / "good"), "-l:libopen-pal.so.40", "-Wl,-rpath,$ORIGIN"], check=True)
    # the development symlink a real installation has: mpi4py >= 4.1 dlopens "libmpi.so" first
    for sub in ("bad", "good"):
        (d / sub / "libmpi.so").symlink_to("libmpi.so.40")
    return d


@needs_mpi4py
def test_undefined_prefixed_hwloc_symbol_is_flagged_before_launch_and_confirmed(conflict_libs):
    """Constructed libmpi on LD_LIBRARY_PATH; real mpi4py, real loader in the child."""
    code, rep = run_json("check", "--only", "MPI001", env=base_env(LD_LIBRARY_PATH=str(conflict_libs / "bad")))
    assert code == 1
    (f,) = by_id(rep, "MPI001")
    assert f["severity"] == "error" and f["kb"] == "mpi-hwloc-symbol-conflict"
    # the title quotes the loader: the wheel's first dlopen that finds a file is libmpi.so; a
    # source build's extension NEEDs libmpi.so.40
    name = "libmpi.so" if mpi4py_abi_wheel() else "libmpi.so.40"
    assert f"{conflict_libs}/bad/{name}: undefined symbol: opal_hwloc201_hwloc_get_type_depth" in f["title"]
    assert "confirmed" in f["title"]
    # the real, plain import (nothing preloaded) says the same
    assert f"{conflict_libs}/bad/{name}: undefined symbol: opal_hwloc201_hwloc_get_type_depth" in f["evidence"]["real import"]
    # the remedy removes nothing: Debian's installation first on LD_LIBRARY_PATH, verified by prediction
    fix = f["fix"]
    assert fix["id"] == "MPI001-ld-library-path" and fix["changes"][0]["kind"] == "edit" and fix.get("requires") != "--allow-system-changes"
    assert "LD_LIBRARY_PATH=" in fix["preview"] and "verified" in f["evidence"]["consistent installation"]


@needs_mpi4py
def test_libmpi_so_40_alone_on_ld_library_path_is_not_what_mpi4py_loads(conflict_libs, tmp_path):
    """Real mpi4py 4.1: with only bad/libmpi.so.40 on LD_LIBRARY_PATH (no libmpi.so beside it),
    mpi4py dlopens "libmpi.so" first and gets Debian's through the ld.so cache: the import works,
    and trtdiag says so instead of predicting the stand-in's failure."""
    if not mpi4py_abi_wheel():
        pytest.skip("the installed mpi4py is a source build: it loads its extension's NEEDED libmpi.so.40")
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(conflict_libs / "bad" / "libmpi.so.40", only / "libmpi.so.40")
    code, rep = run_json("check", "--only", "MPI001,MPI002", "--world-size", "2", env=base_env(LD_LIBRARY_PATH=str(only),
                         OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1"))
    (m2,) = by_id(rep, "MPI002")
    assert m2["severity"] == "ok" and m2["evidence"]["real import"].startswith("ok: Open MPI v"), m2
    assert str(only) not in m2["evidence"]["libmpi"]


def test_prefixed_hwloc_symbol_defined_on_the_load_path_is_not_flagged(conflict_libs):
    """Constructed: libmpi whose libopen-pal (found through RUNPATH $ORIGIN) defines the symbol."""
    code, rep = run_json("check", "--only", "MPI001,MPI002", env=base_env(LD_LIBRARY_PATH=str(conflict_libs / "good")))
    (f,) = by_id(rep, "MPI001")
    assert f["severity"] == "ok", f
    assert "opal_hwloc201_" in f["evidence"]["hwloc"]
    if not mpi4py_abi_wheel():
        # a source-built mpi4py binds to this stand-in libmpi, which has no MPI in it: the real
        # import fails on an MPI symbol — MPI002's, quoting the loader, not an hwloc conflict
        (m2,) = by_id(rep, "MPI002")
        assert m2["severity"] == "error" and "undefined symbol: ompi_" in m2["title"] and "confirmed" in m2["title"], m2


@needs_ompi
@needs_mpi4py
def test_hwloc_plugin_that_needs_symbols_the_loaded_hwloc_lacks(tmp_path):
    """Constructed: a plugin compiled here that needs a hwloc_* symbol no hwloc defines, on
    HWLOC_PLUGINS_PATH; the real Debian plugins next to it pass."""
    src = tmp_path / "plugin.c"
    src.write_text(PLUGIN_C)
    plugdir = tmp_path / "plugins"
    plugdir.mkdir()
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugdir / "hwloc_fake.so"), str(src)], check=True)
    for real in (LIBDIR / "hwloc").glob("hwloc_*.so"):
        shutil.copy(real, plugdir / real.name)
    code, rep = run_json("check", "--only", "MPI001", env=base_env(HWLOC_PLUGINS_PATH=str(plugdir)))
    (f,) = by_id(rep, "MPI001")
    assert f["severity"] == "warning", f
    assert len(f["evidence"]["plugins"]) == 1 and "hwloc_fake.so: needs hwloc_not_in_any_hwloc_symbol" in f["evidence"]["plugins"][0]
    # the plugins come from HWLOC_PLUGINS_PATH: the fix is the variable, not a package
    assert f["fix"] is None and "unset it" in f["message"] and f["evidence"]["HWLOC_PLUGINS_PATH"] == str(plugdir)


def test_fix_preview_shows_system_command_and_apply_needs_the_flag(conflict_libs, tmp_path):
    """The purge is shown by `fix`, skipped by `fix --apply` without --allow-system-changes."""
    if not HAVE_MPI4PY:
        pytest.skip("needs mpi4py")
    env = base_env(LD_LIBRARY_PATH=str(conflict_libs / "bad"))
    p = run_cli("fix", "--only", "MPI001", env=env, cwd=str(tmp_path))
    # the remedy that removes nothing comes first; the purge is only evidence, with what it removes
    assert "MPI001-ld-library-path" in p.stdout and "MPI001-purge-system-hwloc" not in p.stdout
    p = run_cli("fix", "--only", "MPI001", "--apply", "--yes", env=env, cwd=str(tmp_path))
    text = (tmp_path / "trtdiag.env").read_text()
    ldp = text.split("export LD_LIBRARY_PATH=")[1].split()[0].strip("'")
    # sourcing it mends the real import
    r = subprocess.run([sys.executable, "-c", "from mpi4py import MPI; print(MPI.Get_library_version())"], capture_output=True, text=True,
                       env={**env, "LD_LIBRARY_PATH": ldp}, timeout=60)
    assert r.returncode == 0 and "Open MPI" in r.stdout, r.stderr


# ----------------------------------------------------------------------------- mpi4py build (MPI003)
@pytest.fixture(scope="module")
def venv_without_mpi4py(tmp_path_factory):
    """Constructed: a real venv (no pip, no mpi4py) with a tensorrt_llm .dist-info whose METADATA
    says Requires-Dist: mpi4py, as the real wheel's does."""
    d = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d)], check=True, timeout=120)
    py = d / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    di = Path(site) / "tensorrt_llm-0.9.0.dist-info"
    di.mkdir(parents=True)
    (di / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorrt_llm\nVersion: 0.9.0\nRequires-Dist: mpi4py\nRequires-Dist: tensorrt==9.3.0.post12.dev1\n\nlong description\n")
    return str(py)


def test_missing_mpi4py_without_mpicc_offers_the_wheel_not_a_build(venv_without_mpi4py, tmp_path):
    """PATH without mpicc and an include-dir override without mpi.h (nothing is uninstalled):
    mpi4py 4.1.2's wheel installs without them (tests/data/mpi/real_layouts.json), so the finding
    does not claim that `pip install mpi4py` fails; Debian's libmpi is present for it to load."""
    env = base_env(PATH=str(tmp_path), TRTDIAG_MPI_INCLUDE_DIRS=str(tmp_path))
    code, rep = run_json("check", "--only", "MPI003", "--python", venv_without_mpi4py, env=env)
    (f,) = by_id(rep, "MPI003")
    assert code == 1 and f["severity"] == "error" and f["kb"] == "mpi4py-build-failed"
    assert f["title"] == f"mpi4py is not installed in {venv_without_mpi4py}"
    assert "tensorrt_llm 0.9.0 requires mpi4py" in f["evidence"]["needed because"]
    assert "Could not build wheels" not in f["message"] and f["evidence"]["mpicc"] == "not on PATH"
    assert f["fix"]["changes"][0]["argv"] == [venv_without_mpi4py, "-m", "pip", "install", "mpi4py"]
    assert f["fix"].get("requires") != "--allow-system-changes"  # nothing on the system changes


@needs_ompi
def test_missing_mpi4py_with_toolchain_present_offers_pip_install(venv_without_mpi4py):
    """Real mpicc and mpi.h from libopenmpi-dev; the venv lacks mpi4py."""
    code, rep = run_json("check", "--only", "MPI003", "--python", venv_without_mpi4py, env=base_env())
    (f,) = by_id(rep, "MPI003")
    assert f["severity"] == "error" and f["evidence"]["mpicc"].endswith("mpicc") and f["evidence"]["mpi.h"].endswith("mpi.h")
    assert f["fix"]["changes"][0]["argv"] == [venv_without_mpi4py, "-m", "pip", "install", "mpi4py"]


def test_mpi4py_not_needed_is_not_checked(tmp_path):
    """A venv without mpi4py and without tensorrt_llm, no multi-rank launch: nothing to say."""
    d = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d)], check=True, timeout=120)
    for extra in ([], ["--world-size", "2"]):  # Triton's C++ backend needs libmpi, not mpi4py
        code, rep = run_json("check", "--only", "MPI003", "--python", str(d / "bin/python"), *extra, env=base_env())
        assert by_id(rep, "MPI003") == [] and "MPI003" in rep["not_applicable"]


# ----------------------------------------------------------------------------- root (MPI004)
def _root_facts(euid=0, launch_argv=None, world_size=None, env=None, env_file_values=None):
    f = Facts({"launch_argv": launch_argv or [], **({"world_size": world_size} if world_size else {})})
    f.set("mpi.launch", {"euid": euid, "env": env or {}, "env_file": "/tmp/x/trtdiag.env",
                         "env_file_values": env_file_values or {}, "env_file_exists": bool(env_file_values)})
    return f


def test_root_check_only_when_the_launch_uses_mpirun():
    """Facts set directly (the effective user is a constructed value here)."""
    assert run_check("MPI004", _root_facts()) == []  # plain single-GPU check: no word about root
    f = run_check("MPI004", _root_facts(world_size=2))
    assert f[0].severity == Severity.ERROR and f[0].fix.id == "MPI004-allow-root-env"
    assert "export OMPI_ALLOW_RUN_AS_ROOT=1" in f[0].fix.preview and "export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" in f[0].fix.preview
    assert run_check("MPI004", _root_facts(launch_argv=["mpirun", "--allow-run-as-root", "-n", "2", "tritonserver"]))[0].severity == Severity.OK
    # tensorrtllm_backend's launcher passes --allow-run-as-root itself
    assert run_check("MPI004", _root_facts(launch_argv=["python3", "scripts/launch_triton_server.py", "--world_size", "2"]))[0].severity == Severity.OK
    both = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    assert run_check("MPI004", _root_facts(world_size=2, env=both))[0].severity == Severity.OK
    assert run_check("MPI004", _root_facts(world_size=2, env={"OMPI_ALLOW_RUN_AS_ROOT": "1"}))[0].severity == Severity.ERROR
    assert run_check("MPI004", _root_facts(world_size=2, env_file_values=both))[0].severity == Severity.INFO
    assert run_check("MPI004", _root_facts(euid=1000, world_size=2))[0].severity == Severity.OK
    # an engine with two ranks means mpirun, too
    f = _root_facts()
    f.set("engine.info", {"path": "/e", "normalized": {"tp": 2, "pp": 1, "world_size": 2}, "ranks": []})
    # … but which launcher is unknown: launch_triton_server.py would pass --allow-run-as-root itself.
    # What a user saw: `! mpirun will refuse to run as root (unless launched by launch_triton_server.py)`
    # for every tp>1 engine, with a fix writing ./trtdiag.env: now a note naming what to add where
    (g,) = run_check("MPI004", f)
    assert g.severity == Severity.INFO and g.fix is None and g.hint is None
    assert "--allow-run-as-root" in g.title and "launch_triton_server.py passes --allow-run-as-root itself" in g.message


@pytest.mark.skipif(os.geteuid() != 0 or not HAVE_OMPI or not HAVE_MPI4PY, reason="needs root and Open MPI")
def test_root_without_allow_settings_real_mpirun_and_env_file_fix(tmp_path):
    """Real, as root: mpirun refuses; `trtdiag check` flags it; `fix --apply` writes ./trtdiag.env;
    with that file's settings mpirun runs 2 ranks; a second apply changes nothing."""
    env = base_env()
    p = subprocess.run(["mpirun", "-n", "1", "true"], capture_output=True, text=True, env=env, timeout=60)
    assert "mpirun has detected an attempt to run as root" in p.stdout + p.stderr
    code, rep = run_json("check", "--only", "MPI004", "--world-size", "2", env=env, cwd=str(tmp_path))
    (f,) = by_id(rep, "MPI004")
    assert code == 1 and f["severity"] == "error" and f["kb"] == "mpirun-as-root"
    p = run_cli("fix", "--only", "MPI004", "--world-size", "2", "--apply", env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    text = (tmp_path / "trtdiag.env").read_text()
    assert "export OMPI_ALLOW_RUN_AS_ROOT=1" in text and "export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" in text
    sourced = subprocess.run(["bash", "-c", "set -a; . ./trtdiag.env; set +a; exec mpirun -n 2 --oversubscribe " + sys.executable +
                              " -c 'from mpi4py import MPI; c = MPI.COMM_WORLD; print(f\"rank{c.Get_rank()}of{c.Get_size()}\", flush=True)'"],
                             capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    # two ranks write to one pipe: lines may interleave, so look for each rank's token
    assert sourced.returncode == 0 and "rank0of2" in sourced.stdout and "rank1of2" in sourced.stdout, sourced.stdout + sourced.stderr
    p = run_cli("fix", "--only", "MPI004", "--world-size", "2", "--apply", env=env, cwd=str(tmp_path))
    assert "No fixes to make" in p.stdout
    code, rep = run_json("check", "--only", "MPI004", "--world-size", "2", env=env, cwd=str(tmp_path))
    assert by_id(rep, "MPI004")[0]["severity"] == "info"


# ----------------------------------------------------------------------------- world size (MPI005)
def _ws_facts(tp=None, pp=None, ews=None, world_size=None, argv=None, inventory=None, cvd=None):
    f = Facts({"launch_argv": argv or [], **({"world_size": world_size} if world_size else {})})
    if tp is not None:
        f.set("engine.info", {"path": "/e", "config_path": "/e/config.json", "ranks": [],
                              "normalized": {"tp": tp, "pp": pp, "world_size": ews}})
    f.set("gpu.inventory", inventory)
    f.set("mpi.launch", {"euid": 1000, "env": {}, "env_file": "/x/trtdiag.env", "env_file_values": {}, "env_file_exists": False,
                         "CUDA_VISIBLE_DEVICES": cvd})
    return f


@pytest.fixture
def h100_reading() -> dict:
    """conftest's h100_inventory: the recorded H100 reading (tests/data/gpu)."""
    rec = json.loads(H100_NVML.read_text())
    # the recording, in the gpu.inventory shape of docs/ARCHITECTURE.md: one GPU
    return {"nvml_error": None, "driver": rec["driver"], "cuda_driver": rec["cuda_driver"],
            "gpus": [{"index": 0, "name": rec["name"], "cc": rec["cc"], "procs": []}]}


def test_world_size_checks(h100_reading):
    """Engine facts set directly; the GPU inventory is a recorded H100 NVML reading (test double
    for the GPU, which CI does not have)."""
    assert run_check("MPI005", _ws_facts()) == []
    f = run_check("MPI005", _ws_facts(tp=2, pp=1, ews=2, world_size=1, inventory=h100_reading))[0]
    assert f.severity == Severity.ERROR and "tp × pp = 2" in f.title and f.kb == "world-size-mismatch"
    f = run_check("MPI005", _ws_facts(tp=2, pp=1, ews=2, argv=["mpirun", "-n", "2", "tritonserver"], inventory=h100_reading))[0]
    assert f.severity == Severity.ERROR and "need 2 GPUs; 1 visible" in f.title
    f = run_check("MPI005", _ws_facts(tp=1, pp=1, ews=1, argv=["python3", "launch_triton_server.py"], inventory=h100_reading))[0]
    assert f.severity == Severity.OK and f.evidence["GPUs visible"] == "1"
    f = run_check("MPI005", _ws_facts(tp=2, pp=2, ews=2))[0]
    assert f.severity == Severity.ERROR and "inconsistent" in f.title
    f = run_check("MPI005", _ws_facts(world_size=4, argv=["mpirun", "-np", "2", "x"]))[0]
    assert f.severity == Severity.ERROR and "--world-size 4" in f.title
    f = run_check("MPI005", _ws_facts(tp=1, pp=1, ews=1, world_size=1, inventory=h100_reading, cvd=""))[0]
    assert f.severity == Severity.ERROR and "0 visible" in f.title


# ----------------------------------------------------------------------------- fixes
def test_package_manager_from_os_release():
    from trtdiag.fixes.system_packages import package_argv, package_fix, package_manager

    from trtdiag.core.facts import Facts

    def system(osr):  # the host.system fact of a machine with this /etc/os-release
        return {"os_release": osr, "euid": 0, "tools": {}}

    def facts_of(osr):
        f = Facts({})
        f.set("host.system", system(osr))
        return f

    assert package_manager(system({"ID": "debian"})) == "apt"
    assert package_manager(system({"ID": "ubuntu", "ID_LIKE": "debian"})) == "apt"
    assert package_manager(system({"ID": "rocky", "ID_LIKE": "rhel centos fedora"})) in ("dnf", "yum")
    assert package_manager(system({"ID": "alpine"})) is None
    argv = package_argv("purge-system-hwloc", "apt", system({}))
    assert argv[-6:] == ["apt-get", "purge", "-y", "hwloc-nox", "libhwloc-dev", "libhwloc-plugins"]
    assert package_argv("mpi-dev", "dnf", system({}))[-4:] == ["dnf", "install", "-y", "openmpi-devel"]
    assert package_fix(facts_of({"ID": "alpine"}), "X", "x", "mpi-dev") is None
    fx = package_fix(facts_of({"ID": "debian"}), "X", "x", "mpi-dev")
    assert fx.requires == "--allow-system-changes" and not fx.safe and fx.changes[0].kind == "system"


def test_env_file_update_keeps_other_lines_and_is_idempotent(tmp_path):
    from trtdiag.fixes.env_file import env_file_fix, updated_text

    p = tmp_path / "trtdiag.env"
    p.write_text("# mine\nexport CUDA_VISIBLE_DEVICES=0,1\nOMPI_ALLOW_RUN_AS_ROOT=0\n")
    from trtdiag.core.facts import Facts

    fx = env_file_fix(Facts({}), "F", "s", str(p), {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    after = fx.changes[0].after
    assert after == "# mine\nexport CUDA_VISIBLE_DEVICES=0,1\nexport OMPI_ALLOW_RUN_AS_ROOT=1\nexport OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
    p.write_text(after)
    assert env_file_fix(Facts({}), "F", "s", str(p), {"OMPI_ALLOW_RUN_AS_ROOT": "1"}) is None
    assert updated_text(None, {"A": "x y"}).endswith("export A='x y'\n")


@needs_mpi4py
def test_libmpi_whose_dependency_is_missing(tmp_path):
    """Constructed with gcc: a libmpi.so.40 on LD_LIBRARY_PATH that NEEDs libopen-pal-missing.so.40,
    which exists nowhere. MPI002 names the missing library; MPI001 does not blame hwloc packages."""
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    (tmp_path / "dep.c").write_text("int opal_hwloc201_hwloc_get_type_depth(void *t, int x) { return 0; }\n")
    (tmp_path / "mpi.c").write_text(MPI_C)
    build = tmp_path / "build"
    lib = tmp_path / "lib"
    build.mkdir()
    lib.mkdir()
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(build / "libopen-pal-missing.so.40"), "-Wl,-soname,libopen-pal-missing.so.40", str(tmp_path / "dep.c")], check=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib / "libmpi.so.40"), "-Wl,-soname,libmpi.so.40", str(tmp_path / "mpi.c"),
                    "-L" + str(build), "-l:libopen-pal-missing.so.40"], check=True)
    (lib / "libmpi.so").symlink_to("libmpi.so.40")  # as a real installation has it
    code, rep = run_json("check", "--only", "MPI001,MPI002", env=base_env(LD_LIBRARY_PATH=str(lib)))
    (m2,) = by_id(rep, "MPI002")
    assert m2["severity"] == "error" and "libopen-pal-missing.so.40: cannot open shared object file" in m2["title"]
    (m1,) = by_id(rep, "MPI001")
    assert m1["fix"] is None and "libopen-pal-missing.so.40" in m1["message"]


@needs_ompi
@needs_mpi4py
def test_snapshot_gives_the_same_mpi_findings(tmp_path):
    """`collect` on this machine, `check --from` elsewhere: same findings."""
    snap = tmp_path / "snap.json"
    p = run_cli("collect", "--only", "mpi", "-o", str(snap), env=base_env())
    assert snap.exists(), p.stdout + p.stderr
    _, live = run_json("check", "--only", "mpi", env=base_env())
    _, again = run_json("check", "--only", "mpi", "--from", str(snap), env=base_env())
    strip = lambda r: [(f["id"], f["severity"], f["title"]) for f in r["findings"]]  # noqa: E731
    assert strip(live) == strip(again)


@needs_ompi
@needs_mpi4py
def test_multi_rank_launch_confirms_the_healthy_install_with_a_real_import():
    """Real: with two ranks planned, the prediction is confirmed by loading mpi4py in a child."""
    code, rep = run_json("check", "--only", "MPI001,MPI002", "--world-size", "2", env=base_env())
    for cid in ("MPI001", "MPI002"):
        (f,) = by_id(rep, cid)
        assert f["severity"] == "ok" and f["evidence"]["real import"].startswith("ok: Open MPI v"), f


def test_bad_python_option_is_one_line_and_exit_2():
    p = run_cli("check", "--only", "mpi", "--python", "/nonexistent/bin/python")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip() == "trtdiag: error: --python /nonexistent/bin/python: not an executable file"


def test_own_kb_entry_is_complete_and_matches_the_real_message():
    """knowledge_base/mpi-mpi4py-libmpi-mismatch.toml; the message as users posted it
    (mpi4py/mpi4py#222)."""
    import re

    from trtdiag.core import kb

    e = kb.get("mpi-mpi4py-libmpi-mismatch")
    assert all(e.get(k) for k in kb.REQUIRED) and e["checks"] == ["MPI002"] and e["references"]
    sig = e["signatures"][0]
    line = "ImportError: libmpi.so.40: cannot open shared object file: No such file or directory"
    assert sig["literal"] in line and re.search(sig["regex"], line).group("library") == "libmpi.so.40"


@pytest.fixture
def venv_with_mpi4py_and_trtllm(tmp_path):
    """Constructed: a real venv whose .pth adds this venv's site-packages (the real mpi4py), plus a
    tensorrt_llm package laid out like the wheel (.dist-info, tensorrt_llm/libs/) whose
    libtensorrt_llm.so is compiled here with gcc and NEEDs libmpi.so.40."""
    if not (HAVE_GCC and HAVE_MPI4PY):
        pytest.skip("needs gcc and mpi4py")
    d = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d)], check=True, timeout=120)
    py = d / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "outer.pth").write_text(str(Path(mpi4py.__file__).parent.parent) + "\n")
    di = site / "tensorrt_llm-0.9.0.dist-info"
    di.mkdir()
    (di / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorrt_llm\nVersion: 0.9.0\nRequires-Dist: mpi4py\n\n")
    pkg = site / "tensorrt_llm"
    (pkg / "libs").mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '0.9.0'\n")
    (pkg / "_utils.py").write_text("from mpi4py import MPI\n")
    (tmp_path / "trt.c").write_text("int trtllm_entry(void) { return 0; }\n")
    (tmp_path / "other.c").write_text("int MPI_Init(int *argc, char ***argv) { return 0; }\n")

    def build(runpath_to_other: bool):
        other = pkg / "mpi"
        if runpath_to_other:
            other.mkdir(exist_ok=True)
            subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(other / "libmpi.so.40"), "-Wl,-soname,libmpi.so.40", str(tmp_path / "other.c")], check=True)
        extra = ["-Wl,-rpath,$ORIGIN/../mpi", "-Wl,--enable-new-dtags"] if runpath_to_other else []
        link_dir = str(other) if runpath_to_other else str(LIBDIR)
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(pkg / "libs" / "libtensorrt_llm.so"), str(tmp_path / "trt.c"),
                        "-L" + link_dir, "-Wl,--no-as-needed", "-l:libmpi.so.40", *extra], check=True)
        assert "libmpi.so.40" in elf.read(pkg / "libs" / "libtensorrt_llm.so").needed
        return str(py)

    return build


@needs_ompi
def test_tensorrt_llm_that_loads_another_libmpi_than_mpi4py(venv_with_mpi4py_and_trtllm):
    py = venv_with_mpi4py_and_trtllm(runpath_to_other=True)
    code, rep = run_json("check", "--only", "MPI002", "--python", py, env=base_env())
    (f,) = by_id(rep, "MPI002")
    assert f["severity"] == "warning" and "different libmpi files" in f["title"], f
    assert "libtensorrt_llm.so needs libmpi.so.40" in f["evidence"]["tensorrt_llm"][0] and "RUNPATH" in f["evidence"]["tensorrt_llm"][0]


@needs_ompi
def test_tensorrt_llm_that_loads_the_same_libmpi_passes(venv_with_mpi4py_and_trtllm):
    py = venv_with_mpi4py_and_trtllm(runpath_to_other=False)
    code, rep = run_json("check", "--only", "MPI001,MPI002", "--python", py, env=base_env())
    assert [f["severity"] for f in rep["findings"]] == ["ok", "ok"], rep["findings"]


@needs_ompi
def test_elf_reader_on_corrupted_real_library_never_crashes(tmp_path):
    """Fuzzed: Debian's libhwloc with bytes of its header and section table overwritten."""
    from hypothesis import given, settings, strategies as st

    data = (LIBDIR / "libhwloc.so.15").read_bytes()
    p = tmp_path / "libhwloc.so.15"
    shoff = int.from_bytes(data[0x28:0x30], "little")  # ELF64 e_shoff: patch the section table too

    @settings(max_examples=120, deadline=None)
    @given(st.lists(st.tuples(st.one_of(st.integers(min_value=0, max_value=63), st.integers(min_value=shoff, max_value=len(data) - 1)),
                              st.integers(min_value=0, max_value=255)), min_size=1, max_size=12),
           st.integers(min_value=64, max_value=len(data)))
    def run(patches, cut):
        b = bytearray(data)
        for off, val in patches:
            b[off] = val
        b = b[:cut]
        p.write_bytes(bytes(b))
        for fn in (elf.read, elf.symbols):
            try:
                fn(p)
            except elf.ElfError:
                pass

    run()


COMPONENT_C = """
extern int opal_hwloc201_hwloc_get_type_depth(void *topology, int type);
/* the component's table points at the function: the loader binds it when Open MPI opens the file */
void *mca_rmaps_fake_component[] = { (void *) &opal_hwloc201_hwloc_get_type_depth };
"""


@needs_ompi
@needs_mpi4py
def test_mca_component_built_for_another_open_mpi(tmp_path):
    """Constructed: a component compiled here (mca_rmaps_fake.so) that needs the embedded-hwloc
    symbol, next to copies of Debian's real components, on OMPI_MCA_mca_base_component_path.
    Real: mpirun opens the directory and prints the very line the finding quotes."""
    comps = tmp_path / "components"
    comps.mkdir()
    (tmp_path / "comp.c").write_text(COMPONENT_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(comps / "mca_rmaps_fake.so"), str(tmp_path / "comp.c")], check=True)
    real_dir = next(d for d in (LIBDIR / "openmpi/lib/openmpi3", LIBDIR / "openmpi/lib/openmpi", LIBDIR / "openmpi") if d.is_dir())
    for c in real_dir.glob("mca_*.so"):
        shutil.copy(c, comps / c.name)
    env = base_env(OMPI_MCA_mca_base_component_path=str(comps))
    code, rep = run_json("check", "--only", "MPI001", "--world-size", "2", env=env)
    (f,) = by_id(rep, "MPI001")
    # this constructed component refers to the symbol from data (bound at load): it fails to open
    # and is skipped — unlike real components, which call it and bind lazily (test_mpi_layout_logic)
    assert f["severity"] == "warning" and "mca_rmaps_fake: undefined symbol: opal_hwloc201_hwloc_get_type_depth" in f["title"], f
    assert f["evidence"]["components"] == [f"{comps}/mca_rmaps_fake.so: not opened (opal_hwloc201_hwloc_get_type_depth)"]
    quoted = f"unable to open mca_rmaps_fake: {comps}/mca_rmaps_fake.so: undefined symbol: opal_hwloc201_hwloc_get_type_depth (ignored)"
    assert quoted in f["message"]
    argv = ["mpirun", "-n", "1"] + (["--allow-run-as-root"] if os.geteuid() == 0 else []) + ["true"]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert quoted in p.stdout + p.stderr
    # without the stranger, the real components all fit: ok, with the count as evidence
    (comps / "mca_rmaps_fake.so").unlink()
    code, rep = run_json("check", "--only", "MPI001", "--world-size", "2", env=env)
    (f,) = by_id(rep, "MPI001")
    assert f["severity"] == "ok" and f["evidence"]["components checked"].startswith(f"{len(list(real_dir.glob('mca_*.so')))} in {comps}")


def test_too_few_gpus_for_the_world_size_is_one_finding():
    """`check --world-size 2` where no GPU is visible (a real child process; the GPU is the recorded
    H100 inventory, a test double for NVML, hidden by an empty CUDA_VISIBLE_DEVICES): CTR004 owns
    the GPU count; MPI005 does not report it again, but still does when run alone."""
    from tests.conftest import DATA, run_json

    env = {"CUDA_VISIBLE_DEVICES": "", "TRTDIAG_GPU_INVENTORY": str(DATA / "gpu" / "h100-80gb_idle.json")}
    code, rep = run_json("check", "--world-size", "2", "--only", "MPI005,CTR004", env=env)
    errors = [f for f in rep["findings"] if f["severity"] == "error"]
    assert [f["id"] for f in errors] == ["CTR004"] and code == 1, errors
    assert by_id(rep, "MPI005") == []
    code, rep = run_json("check", "--world-size", "2", "--only", "MPI005", env=env)
    (f,) = by_id(rep, "MPI005")
    assert f["severity"] == "error" and "0 visible" in f["title"]


def test_world_size_without_nvml_leaves_the_gpu_count_to_gpu001():
    """No driver reachable (an NVML error): MPI005 does not claim '0 GPUs visible'."""
    f = _ws_facts(tp=2, pp=1, ews=2, inventory={"nvml_error": "libnvidia-ml.so.1 cannot be loaded", "gpus": []})
    (g,) = run_check("MPI005", f)
    assert g.severity == Severity.OK and g.evidence["GPUs visible"].startswith("unknown")


def test_root_error_names_the_command_to_mend():
    """A known launch (exec knows it): the error says what to add to which command."""
    (f,) = run_check("MPI004", _root_facts(launch_argv=["mpirun", "-n", "2", "tritonserver", "--model-repository", "/models"]))
    assert f.severity == Severity.ERROR
    assert "Add --allow-run-as-root to the mpirun of `mpirun -n 2 tritonserver --model-repository /models`" in f.message
