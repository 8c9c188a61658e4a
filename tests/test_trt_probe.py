"""Installed TensorRT found without importing it: pip dirs, LD_LIBRARY_PATH, the ld.so cache, and
each library's own getInferLibVersion() read in a child process.

The real library is libnvinfer_lean.so.11 from the tensorrt-lean-cu12-libs 11.4.0.106 wheel in
.cache/wheels (CI downloads it).  A second, different version is a small real shared library
compiled here with gcc that exports the same five functions: a stand-in for another TensorRT
release, since a second real libnvinfer cannot be installed on CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trtdiag.core.facts import Facts
from trtdiag.probes import trt

from tests.conftest import REPO, run_cli, run_json

WHEEL_GLOB = "tensorrt_lean_cu12_libs-11.4.0.106-*.whl"


@pytest.fixture(scope="session")
def lean_lib_dir(tmp_path_factory) -> Path:
    """libnvinfer_lean.so.11 extracted from the real wheel into a temporary directory."""
    wheels = sorted((REPO / ".cache" / "wheels").glob(WHEEL_GLOB))
    if not wheels:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the tensorrt-lean-cu12-libs 11.4.0.106 wheel is missing from {REPO / '.cache' / 'wheels'} (.ci/run downloads it)")
        pytest.skip("tensorrt-lean-cu12-libs wheel not in .cache/wheels")
    d = tmp_path_factory.mktemp("lean")
    with zipfile.ZipFile(wheels[0]) as z:
        for info in z.infolist():
            if os.path.basename(info.filename).startswith("libnvinfer_lean.so"):
                with z.open(info) as src, open(d / os.path.basename(info.filename), "wb") as dst:
                    shutil.copyfileobj(src, dst)
    return d


FAKE_SRC = r"""
int getInferLibVersion(void) { return %(int)d; }
int getInferLibMajorVersion(void) { return %(major)d; }
int getInferLibMinorVersion(void) { return %(minor)d; }
int getInferLibPatchVersion(void) { return %(patch)d; }
int getInferLibBuildVersion(void) { return %(build)d; }
"""


def stand_in_lib(d: Path, soname: str, major: int, minor: int, patch: int, build: int) -> Path:
    """A real shared library exporting getInferLib*Version(), compiled with gcc: a stand-in for
    another TensorRT release (only its version functions are asked)."""
    if not shutil.which("gcc"):
        pytest.skip("gcc not installed")
    d.mkdir(parents=True, exist_ok=True)
    src = d / "v.c"
    src.write_text(FAKE_SRC % {"int": major * 10000 + minor * 100 + patch, "major": major, "minor": minor, "patch": patch, "build": build})
    out = d / soname
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out


def test_lean_library_reports_its_own_version_through_a_child(lean_lib_dir):
    lib = str(lean_lib_dir / "libnvinfer_lean.so.11")
    v = trt.read_versions([lib])[lib]
    assert v == {"int": 110400, "major": 11, "minor": 4, "patch": 0, "build": 106}
    assert trt.format_version(v) == "11.4.0.106"


def test_ld_so_cache_parser_agrees_with_ldconfig():
    if not os.path.exists(trt.LD_CACHE) or not shutil.which("ldconfig"):
        pytest.skip("no ld.so cache here")
    mine = set(trt.ld_cache_entries())
    theirs = set(trt.parse_ldconfig_p(subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout))
    assert mine == theirs and mine


def test_ld_so_cache_parser_survives_garbage():
    assert trt.ld_cache_entries(data=b"") == []
    assert trt.ld_cache_entries(data=b"glibc-ld.so.cache1.1" + b"\xff" * 40) == []


def test_library_on_ld_library_path_is_the_runtime_here(lean_lib_dir):
    code, rep = run_json("check", "--only", "TRT", env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    f = {x["id"]: x for x in rep["findings"]}
    assert f["TRT001"]["severity"] == "ok" and "TensorRT 11.4.0.106" in f["TRT001"]["title"]
    assert f["TRT001"]["evidence"]["path"].endswith("libnvinfer_lean.so.11")
    assert code == 0


def test_pip_tensorrt_libs_of_another_interpreter_are_found(tmp_path, lean_lib_dir):
    """--python: a real virtual environment whose site-packages holds tensorrt_lean_libs/."""
    venv = make_venv(tmp_path / "venv")
    site = Path(json.loads(subprocess.run([str(venv), "-I", "-c", "import json,site;print(json.dumps(site.getsitepackages()))"],
                                          capture_output=True, text=True, check=True).stdout)[0])
    (site / "tensorrt_lean_libs").mkdir()
    os.symlink(lean_lib_dir / "libnvinfer_lean.so.11", site / "tensorrt_lean_libs" / "libnvinfer_lean.so.11")
    f = Facts({"python": str(venv)})
    libs = f["trt.libraries"]
    assert libs["selected"]["source"] == "pip:tensorrt-lean-libs" and libs["selected"]["version"] == "11.4.0.106"


def test_several_versions_on_the_path_warn_naming_each(tmp_path, lean_lib_dir):
    other = stand_in_lib(tmp_path / "trt10", "libnvinfer.so.10", 10, 0, 1, 6)
    env = {"LD_LIBRARY_PATH": f"{lean_lib_dir}{os.pathsep}{other.parent}"}
    code, rep = run_json("check", "--only", "TRT", env=env)
    f = {x["id"]: x for x in rep["findings"]}
    w = f["TRT002"]
    assert w["severity"] == "warning" and "10.0.1.6" in w["title"] and "11.4.0.106" in w["title"]
    text = "\n".join(w["evidence"]["libraries"])
    assert str(other) in text and "libnvinfer_lean.so.11" in text
    # the full runtime wins over the lean one as the engine loader
    assert "10.0.1.6" in f["TRT001"]["title"]


def test_nothing_installed_is_cheap_and_says_so(tmp_path):
    code, rep = run_json("check", "--only", "TRT", env={"LD_LIBRARY_PATH": ""})
    assert code == 0
    t = {x["id"]: x for x in rep["findings"]}["TRT001"]
    # this CI machine has no TensorRT in the ld cache; where it has, the finding names it
    assert t["severity"] in ("info", "ok")


def test_trtllm_version_and_commit_from_version_file(tmp_path):
    """A real venv whose site-packages holds tensorrt_llm's dist-info and version.py (the package
    itself is never imported)."""
    venv = make_venv(tmp_path / "venv")
    install_fake_trtllm(venv, "0.10.0.dev2024041600", commit="a1b2c3d4e5f6")
    f = Facts({"python": str(venv)})
    t = f["trtllm.installed"]
    assert t["version"] == "0.10.0.dev2024041600" and t["commit"] == "a1b2c3d4e5f6"
    assert f["python.packages"]["packages"]["tensorrt-llm"] == "0.10.0.dev2024041600"


def test_python_option_with_a_bad_interpreter_is_one_line_exit_2(tmp_path):
    p = run_cli("check", "--python", str(tmp_path / "nope"))
    assert p.returncode == 2 and "Traceback" not in p.stderr and "--python" in p.stderr


# ------------------------------------------------------------------ helpers shared with the engine tests
def make_venv(d: Path) -> Path:
    if not (d / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d)], check=True)
    return d / "bin" / "python"


def site_packages(venv_python: Path) -> Path:
    out = subprocess.run([str(venv_python), "-I", "-c", "import json,site;print(json.dumps(site.getsitepackages()))"],
                         capture_output=True, text=True, check=True).stdout
    return Path(json.loads(out)[0])


def install_fake_trtllm(venv_python: Path, version: str, commit: str | None = None) -> Path:
    """Write what `pip install tensorrt_llm==VERSION` leaves that trtdiag reads: the dist-info and
    tensorrt_llm/version.py (no code that could run)."""
    site = site_packages(venv_python)
    di = site / f"tensorrt_llm-{version}.dist-info"
    di.mkdir(exist_ok=True)
    (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tensorrt_llm\nVersion: {version}\n")
    pkg = site / "tensorrt_llm"
    pkg.mkdir(exist_ok=True)
    text = f'__version__ = "{version}"\n'
    if commit:
        text += f'__git_commit__ = "{commit}"\n'
    (pkg / "version.py").write_text(text)
    return site


def test_trtllm_requirement_on_tensorrt_is_compared_with_what_is_installed(tmp_path, lean_lib_dir):
    """tensorrt_llm's METADATA Requires-Dist pins TensorRT; the real lean 11.4 library is what is found."""
    venv = make_venv(tmp_path / "venv")
    site = install_fake_trtllm(venv, "0.9.0")
    meta = next(site.glob("tensorrt_llm-*.dist-info")) / "METADATA"
    meta.write_text(meta.read_text() + "Requires-Dist: tensorrt==9.3.0.post12.dev1\nRequires-Dist: mpi4py\n")
    code, rep = run_json("check", "--python", str(venv), "--only", "TRT005", env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    w = {f["id"]: f for f in rep["findings"]}["TRT005"]
    assert w["severity"] == "warning" and "tensorrt==9.3.0.post12.dev1" in w["title"] and "11.4.0.106" in w["title"]
    meta.write_text(meta.read_text().replace("tensorrt==9.3.0.post12.dev1", "tensorrt==11.4.0"))
    code, rep = run_json("check", "--python", str(venv), "--only", "TRT005", env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    assert {f["id"]: f for f in rep["findings"]}["TRT005"]["severity"] == "ok"


def test_pip_library_that_cannot_load_here_takes_its_package_version(tmp_path):
    """A libnvinfer.so.10 that does not load on this machine (here: not an ELF file at all) keeps
    the version of the pip package that installed it, and says why."""
    venv = make_venv(tmp_path / "venv")
    site = site_packages(venv)
    (site / "tensorrt_libs").mkdir()
    (site / "tensorrt_libs" / "libnvinfer.so.10").write_bytes(b"not an ELF file")
    di = site / "tensorrt_cu12_libs-10.0.1.6.dist-info"
    di.mkdir()
    (di / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorrt-cu12-libs\nVersion: 10.0.1.6\n")
    libs = Facts({"python": str(venv)})["trt.libraries"]
    c = libs["candidates"][0]
    assert c["version"] == "10.0.1.6" and "error" in c and "pip package" in c["version_from"]


def test_bindings_of_another_release_than_the_library_warn(tmp_path, lean_lib_dir):
    """The tensorrt bindings' dist-info says 10.0.1; the library found is the real lean 11.4.0.106."""
    venv = make_venv(tmp_path / "venv")
    site = site_packages(venv)
    di = site / "tensorrt_cu12_bindings-10.0.1.dist-info"
    di.mkdir()
    (di / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorrt_cu12_bindings\nVersion: 10.0.1\n")
    code, rep = run_json("check", "--python", str(venv), "--only", "TRT001,TRT003", env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    f = {x["id"]: x for x in rep["findings"]}
    assert f["TRT003"]["severity"] == "warning" and "10.0.1" in f["TRT003"]["title"] and "11.4.0.106" in f["TRT003"]["title"]
    assert f["TRT001"]["evidence"]["pip tensorrt-cu12-bindings"] == "10.0.1"


def test_a_library_answer_is_kept_until_the_file_changes(tmp_path, monkeypatch):
    """The second check asks no child process for a library it asked before; a changed file (an
    upgrade: new mtime, size or inode) is asked again, so a wrong version after an upgrade cannot
    happen.  The library is a real gcc-built one exporting getInferLib*Version()."""
    from trtdiag import proc

    lib = stand_in_lib(tmp_path / "lib", "libnvinfer.so.10", 10, 6, 0, 26)
    first = trt.read_versions([str(lib)])[str(lib)]
    assert trt.format_version(first) == "10.6.0.26"

    def no_child(*a, **k):
        raise AssertionError("asked a child process although the answer was kept")

    real = proc.run_python_json
    monkeypatch.setattr(proc, "run_python_json", no_child)
    assert trt.read_versions([str(lib)])[str(lib)] == first
    monkeypatch.setattr(proc, "run_python_json", real)
    newer = stand_in_lib(tmp_path / "lib2", "libnvinfer.so.10", 10, 7, 0, 23)
    os.replace(newer, lib)  # the upgrade: another file at the same path
    assert trt.format_version(trt.read_versions([str(lib)])[str(lib)]) == "10.7.0.23"
