"""Nothing behind the user's back.

A hostile tree — a tokenizer folder whose own tokenizer module writes a marker when imported, a
config.pbtxt that is a symlink to a file outside the repository, values that look like shell
injection, a port held by PID 1 — goes through `check`, `check --load-tokenizer` (without
--trust-remote-code), `fix`, `fix --apply --yes` and `fix --apply --yes --kill`: no marker, no
write outside the trees, no process stopped, no injected command run.

And the source itself: no shell, every subprocess call bounded by a timeout or listed here with
the reason it is not; a child killed on timeout takes its children with it.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests import tokenizer_kit as K
from tests.conftest import REPO, cli_env
from tests.triton_helpers import copy_templates, make_engine


def run(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trtdiag", *args], capture_output=True, text=True, env=cli_env(env), cwd=cwd, timeout=timeout)


def _files(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under root (links not followed) with its mtime and content."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                out[p] = (0, os.readlink(p).encode())
                continue
            try:
                out[p] = (os.stat(p).st_mtime_ns, Path(p).read_bytes())
            except OSError:
                pass
    return out


def _hostile_tree(tmp: Path) -> dict[str, Path]:
    inj = tmp / "INJECTED"  # any of the shell-looking values below, run by a shell, creates this
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "sentinel.txt").write_text("precious\n")
    tok = K.custom_dir(tmp / "tok", "chatglm", marker=str(tmp / "IMPORTED"))
    eng = make_engine(tmp / "eng", max_batch_size=4)
    repo = copy_templates(tmp / "repo")
    pre = repo / "preprocessing" / "config.pbtxt"
    # the preprocessing config is a link to a file outside the repository (with placeholders to fill)
    (outside / "preprocessing.pbtxt").write_text(pre.read_text().replace("${tokenizer_dir}", f"$(touch {inj})"))
    pre.unlink()
    pre.symlink_to(outside / "preprocessing.pbtxt")
    post = repo / "postprocessing" / "config.pbtxt"
    post.write_text(post.read_text().replace("${tokenizer_dir}", str(tok)).replace("${tokenizer_type}", f"llama; touch {inj}"))
    trt = repo / "tensorrt_llm" / "config.pbtxt"
    trt.write_text(trt.read_text().replace("${engine_dir}", str(eng)).replace("${triton_max_batch_size}", "64")
                   .replace("${decoupled_mode}", f"`touch {inj}`").replace("${max_beam_width}", "1"))
    work = tmp / "work"
    work.mkdir()
    return {"repo": repo, "tok": tok, "eng": eng, "outside": outside, "work": work, "inj": inj, "marker": tmp / "IMPORTED"}


def test_hostile_tree_check_and_fix_do_nothing_behind_the_users_back(tmp_path):
    t = _hostile_tree(tmp_path)
    before_outside = _files(t["outside"])
    before_all = _files(tmp_path)
    target = ["--model-repo", str(t["repo"]), "--tokenizer-dir", str(t["tok"]), "--engine-dir", str(t["eng"])]
    state = tmp_path / "state"
    env = {"TRTDIAG_STATE_DIR": str(state)}
    runs = [
        ["check", *target],
        ["check", "--load-tokenizer", *target],
        ["fix", *target],
        ["fix", "--apply", "--yes", *target, "--set", f"tokenizer_dir=$(touch {t['inj']})"],
        ["fix", "--apply", "--yes", "--kill", *target],
    ]
    for argv in runs:
        p = run(*argv, cwd=t["work"], env=env)
        what = " ".join(argv[:3])
        assert "Traceback" not in p.stderr and "internal error" not in p.stderr, f"{what}: {p.stderr[-2000:]}"
        assert p.returncode in (0, 1, 2), f"{what}: exit {p.returncode}"
        assert not t["marker"].exists(), f"{what}: the tokenizer folder's own module was imported"
        assert not t["inj"].exists(), f"{what}: a value from a config file was run by a shell"
        assert _files(t["outside"]) == before_outside, f"{what}: a file outside the trees changed"
        # nothing new or changed anywhere but inside the trees trtdiag was pointed at (and its state)
        trees = [str(t[k]) + os.sep for k in ("repo", "tok", "eng", "work")] + [str(state) + os.sep]
        now = _files(tmp_path)
        changed = [p for p in set(now) | set(before_all) if now.get(p) != before_all.get(p) and not any(p.startswith(r) for r in trees)]
        assert changed == [], f"{what}: changed outside the trees: {changed}"
    # the link still points outside and its target is untouched
    pre = t["repo"] / "preprocessing" / "config.pbtxt"
    assert pre.is_symlink()
    assert "touch" in (t["outside"] / "preprocessing.pbtxt").read_text()
    # without the link the fixes apply: shell-looking values land in the files as text, never run
    pre.unlink()
    shutil.copy(t["outside"] / "preprocessing.pbtxt", pre)
    before_repo = _files(t["repo"])
    p = run("fix", "--apply", "--yes", "--kill", *target, "--set", f"tokenizer_dir=$(touch {t['inj']})", cwd=t["work"], env=env)
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stdout[-1500:] + p.stderr[-1500:]
    assert _files(t["repo"]) != before_repo, "the fixes changed nothing: this test would prove nothing"
    assert not t["inj"].exists() and not t["marker"].exists()
    assert _files(t["outside"]) == before_outside
    p = run("fix", "--undo", cwd=t["work"], env=env)
    assert p.returncode == 0, p.stderr
    assert {k: v[1] for k, v in _files(t["repo"]).items()} == {k: v[1] for k, v in before_repo.items()}


def test_load_tokenizer_without_trust_never_imports_the_folders_code(tmp_path):
    """The tokenizer probe loads in a child process; without --trust-remote-code the folder's own
    module is never imported (transformers' trust_remote_code=False), and the finding says why."""
    marker = tmp_path / "IMPORTED"
    tok = K.custom_dir(tmp_path / "qwen", "qwen", marker=str(marker))
    p = run("check", "--load-tokenizer", "--tokenizer-dir", str(tok), "--only", "tokenizer", "--json", cwd=tmp_path)
    assert "Traceback" not in p.stderr, p.stderr
    assert not marker.exists()
    assert "--trust-remote-code" in p.stdout


@pytest.mark.skipif(not shutil.which("unshare"), reason="util-linux unshare not installed")
def test_port_held_by_pid_1_is_never_stopped_even_with_kill(tmp_path):
    """A real process that is PID 1 (of a new PID namespace: `unshare --fork --pid --mount-proc`)
    named tritonserver holds the HTTP port; `fix --apply --yes --kill` runs inside that namespace
    and must leave PID 1 alone (it is the one that writes the result at the end)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = tmp_path / "result.json"
    init = tmp_path / "bin" / "tritonserver"
    init.parent.mkdir()
    init.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, socket, subprocess, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", {port})); s.listen()
        out = {{"pid": os.getpid(), "runs": []}}
        for argv in (["fix", "--http-port", "{port}", "--json"], ["fix", "--apply", "--yes", "--kill", "--http-port", "{port}"]):
            p = subprocess.run([sys.executable, "-m", "trtdiag", *argv], capture_output=True, text=True, timeout=120)
            out["runs"].append({{"argv": argv, "rc": p.returncode, "out": p.stdout, "err": p.stderr}})
        json.dump(out, open({str(result)!r}, "w"))
        """))
    init.chmod(0o755)
    p = subprocess.run(["unshare", "--fork", "--pid", "--mount-proc", str(init)], capture_output=True, text=True,
                       env=cli_env({"TRTDIAG_STATE_DIR": str(tmp_path / "state")}), cwd=REPO, timeout=240)
    if p.returncode != 0 and not result.exists() and ("Operation not permitted" in p.stderr or "unshare failed" in p.stderr):
        pytest.skip(f"no PID namespaces here: {p.stderr.strip()}")
    assert result.exists(), f"PID 1 did not finish (was it stopped?): rc {p.returncode}\n{p.stderr[-2000:]}"
    out = json.loads(result.read_text())
    assert out["pid"] == 1
    preview, applied = out["runs"]
    assert "Traceback" not in preview["err"] + applied["err"], preview["err"] + applied["err"]
    fixes = json.loads(preview["out"])["fixes"]
    assert all(c.get("kind") != "kill" for fx in fixes for c in fx["changes"]), fixes
    assert "stopping PID 1" not in applied["err"] + applied["out"]


# ------------------------------------------------------------------------------ the source itself
# subprocess calls without a timeout, each with the reason it has none
NO_TIMEOUT_ALLOWED = {
    ("trtdiag/proc.py", "run"): "the one runner: communicate(timeout=…) bounds it and kills the process group",
    ("trtdiag/fixes/applier.py", "run_streaming"): "runs a fix's command or a rebuild the user asked for with --apply (an engine build takes hours); output streamed, process group killed on an optional timeout",
    ("trtdiag/logscan/matcher.py", "_scan_child"): "rg/grep reading a regular file to its end, its address space limited (CHILD_MEMORY); reaped with its process group by _reaped",
    ("trtdiag/logscan/matcher.py", "_scan_rg_split"): "ripgreps side by side over a regular file, address space limited; reaped by _reaped",
    ("trtdiag/logscan/matcher.py", "_scan_pumped"): "rg/grep fed the log by trtdiag (pipes, long lines in pieces); ends when its input ends; reaped by _reaped",
    ("trtdiag/logscan/matcher.py", "_segment_pipe"): "head | grep over a segment of a regular file; reaped by _reaped",
}
KILL_ALLOWED = {
    ("trtdiag/proc.py", "run"): "its own child's process group, on timeout",
    ("trtdiag/fixes/applier.py", "_crash_point"): "itself, for the crash tests (TRTDIAG_CRASH_AT)",
    ("trtdiag/fixes/applier.py", "run_streaming"): "its own child's process group, on timeout",
    ("trtdiag/fixes/applier.py", "kill_process"): "the one place a process is stopped: needs --kill, never PID 1 or another user's",
    ("trtdiag/logscan/matcher.py", "__exit__"): "its own grep children",
    ("trtdiag/app/commands/exec.py", "_kill_own_children"): "its own children (checks' leftovers) before exec",
}
EXEC_ALLOWED = {("trtdiag/app/commands/exec.py", "launch"): "exec replaces itself with the launch command the user gave after --"}


def _calls():
    for path in sorted((REPO / "trtdiag").rglob("*.py")):
        rel = str(path.relative_to(REPO))
        tree = ast.parse(path.read_text(), filename=rel)
        stack: list[str] = []

        def visit(node, fn="<module>"):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                fn = node.name
            if isinstance(node, ast.Call):
                yield rel, fn, node
            for child in ast.iter_child_nodes(node):
                yield from visit(child, fn)

        yield from visit(tree)
        del stack


def _name(func: ast.AST) -> str:
    try:
        return ast.unparse(func)
    except Exception:  # pragma: no cover
        return ""


def test_no_shell_anywhere():
    bad = []
    for rel, fn, call in _calls():
        name = _name(call.func)
        if name in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput") or name.startswith("os.spawn"):
            bad.append(f"{rel}:{call.lineno} {fn}: {name}")
        for kw in call.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                bad.append(f"{rel}:{call.lineno} {fn}: shell=")
    assert bad == [], bad


def test_every_subprocess_call_has_a_timeout_or_a_reason():
    found, bad = set(), []
    for rel, fn, call in _calls():
        name = _name(call.func)
        if not (name.startswith("subprocess.") and name.split(".")[-1] in ("run", "call", "check_call", "check_output", "Popen")):
            continue
        if any(kw.arg == "timeout" for kw in call.keywords):
            continue
        if (rel, fn) in NO_TIMEOUT_ALLOWED:
            found.add((rel, fn))
            continue
        bad.append(f"{rel}:{call.lineno} in {fn}(): {name} without timeout= (use trtdiag.proc.run)")
    assert bad == [], bad
    assert found == set(NO_TIMEOUT_ALLOWED), f"stale allow-list entries: {set(NO_TIMEOUT_ALLOWED) - found}"


def test_processes_are_stopped_or_replaced_only_where_listed():
    found, bad = set(), []
    for rel, fn, call in _calls():
        name = _name(call.func)
        kill = name in ("os.kill", "os.killpg") or name.endswith((".terminate", ".kill", ".send_signal")) and not name.startswith("self.")
        execs = name.startswith("os.exec")
        if not (kill or execs):
            continue
        allowed = KILL_ALLOWED if kill else EXEC_ALLOWED
        if (rel, fn) in allowed:
            found.add((rel, fn))
        else:
            bad.append(f"{rel}:{call.lineno} in {fn}(): {name}")
    assert bad == [], bad
    assert found == set(KILL_ALLOWED) | set(EXEC_ALLOWED), f"stale allow-list entries: {(set(KILL_ALLOWED) | set(EXEC_ALLOWED)) - found}"


def test_no_tensorrt_import_in_the_trtdiag_process():
    """Diagnose without the thing that is broken: tensorrt / tensorrt_llm only ever in a child."""
    bad = []
    for path in sorted((REPO / "trtdiag").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods = [node.module]
            mods += [node.args[0].value for node in [node] if isinstance(node, ast.Call) and _name(node.func) in ("importlib.import_module", "__import__")
                     and node.args and isinstance(node.args[0], ast.Constant)]
            bad += [f"{path.relative_to(REPO)}:{node.lineno}: {m}" for m in mods if str(m).split(".")[0] in ("tensorrt", "tensorrt_llm")]
    assert bad == [], bad


# ------------------------------------------------------------------------------ timeouts kill the whole family
def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def test_timeout_kills_the_child_and_its_grandchild(tmp_path):
    from trtdiag import proc

    pids = tmp_path / "pids"
    code = textwrap.dedent(f"""
        import os, subprocess, sys, time
        g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{g.pid}}")
        time.sleep(60)
        """)
    t0 = time.monotonic()
    r = proc.run([sys.executable, "-c", code], timeout=2)
    assert r.timed_out and time.monotonic() - t0 < 10
    child, grandchild = map(int, pids.read_text().split())
    deadline = time.monotonic() + 5
    while (_alive(child) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child) and not _alive(grandchild)


def test_timeout_is_bounded_even_when_a_grandchild_escapes_the_process_group(tmp_path):
    """A grandchild that calls setsid() survives the process-group kill and keeps the output pipes
    open; proc.run must still return soon after its timeout instead of waiting for it."""
    from trtdiag import proc

    pidfile = tmp_path / "pid"
    code = textwrap.dedent(f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(30)"])
        time.sleep(60)
        """)
    t0 = time.monotonic()
    r = proc.run([sys.executable, "-c", code], timeout=1)
    took = time.monotonic() - t0
    try:
        assert r.timed_out and took < 8, took
    finally:
        deadline = time.monotonic() + 5
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), 9)  # the escaped grandchild this test started
            except (ProcessLookupError, ValueError):
                pass
