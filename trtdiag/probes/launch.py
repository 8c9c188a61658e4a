"""What the launch command will start: the fact ``launch.command``.

``trtdiag exec -- COMMAND …`` hands COMMAND to this module (through the option ``launch_argv``),
which reads it — never runs it — to learn what to check: the model repository, the engine
directory, the ports and the number of ranks.  It understands

- ``tritonserver`` (``--model-repository``/``--model-store``, ``--http-port``, ``--grpc-port``,
  ``--metrics-port``, ``--allow-http/--allow-grpc/--allow-metrics false``,
  ``--backend-config=python,shm-default-byte-size=N``), each as ``--opt value`` or ``--opt=value``;
- tensorrtllm_backend's ``scripts/launch_triton_server.py`` (``--world_size``, ``--model_repo``,
  ``--http_port``, ``--grpc_port``, ``--metrics_port``, ``--tritonserver``, as in its argparse;
  the script starts ``mpirun -n 1 tritonserver … : -n 1 tritonserver …``, one per rank);
- ``trtllm-serve MODEL_OR_ENGINE_DIR [--port N] [--tp_size N] [--pp_size N] [--tokenizer DIR]``
  (docs/source/commands/trtllm-serve.rst; the server listens on 8000 by default);
- ``mpirun``/``mpiexec``/``orterun`` with ``-n N``/``-np N`` wrapping any of those, also in MPMD
  form (``-n 1 A : -n 1 B``: the ranks add up);
- the wrappers ``env [VAR=value …]``, ``python[3] SCRIPT``/``python -m MODULE`` and
  ``sh|bash -c "STRING"`` (the string is split like a shell would, only to be read).

:func:`parse` is a pure function of the argv list; the probe adds nothing the argv does not say.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.facts import probe

DEFAULT_PORTS = {"http_port": 8000, "grpc_port": 8001, "metrics_port": 8002}

MPI_LAUNCHERS = {"mpirun", "mpiexec", "orterun", "mpiexec.hydra"}
# mpirun options that take one value (Open MPI 4/5 and MPICH spellings); the rest are flags.
_MPI_ONE = {
    "-n", "-np", "--np", "--n", "-c", "-N", "-npernode", "--npernode", "-ppn", "--ppn",
    "-x", "-H", "-host", "--host", "-hostfile", "--hostfile", "-machinefile", "--machinefile",
    "-f", "--map-by", "-map-by", "--bind-to", "-bind-to", "--rank-by", "-rank-by", "-wdir", "--wdir",
    "-cwd", "--cwd", "--prefix", "-prefix", "--output-filename", "-output-filename", "--timeout",
    "-genv", "-env", "--app", "-app", "--tune", "--personality", "--launch-agent", "-launcher",
    "--report-bindings-file", "-s", "--preload-files", "--path", "-path",
}
_MPI_TWO = {"-mca", "--mca", "-gmca", "--gmca", "--prtemca", "-prtemca"}
_MPI_RANKS = {"-n", "-np", "--np", "--n", "-c"}
_MPI_HOSTS = {"-H", "-host", "--host", "-hostfile", "--hostfile", "-machinefile", "--machinefile", "-f"}

_PYTHON_RE = re.compile(r"^python(\d+(\.\d+)?)?$")


def _opt(args: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of ``names`` in ``args`` (``--x v`` or ``--x=v``), as argparse
    and Triton read it: the last one wins."""
    val = None
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                val = args[i + 1]
            elif a.startswith(n + "="):
                val = a[len(n) + 1 :]
    return val


def _all(args: list[str], names: tuple[str, ...]) -> list[str]:
    out = []
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                out.append(args[i + 1])
            elif a.startswith(n + "="):
                out.append(a[len(n) + 1 :])
    return out


def _int(v: str | None) -> int | None:
    if v is None:
        return None
    try:
        return int(v.strip())
    except ValueError:
        return None


def _count(v: str | None) -> int | None:
    """A rank count: a positive integer, or None."""
    n = _int(v)
    return n if n is not None and n > 0 else None


def _false(v: str | None) -> bool:
    return v is not None and v.strip().lower() in ("false", "0", "no", "off")


def _size(v: str) -> int | None:
    return _int(v)


def _tritonserver(args: list[str], out: dict[str, Any]) -> None:
    repos = _all(args, ("--model-repository", "--model-store"))
    if repos:
        out["model_repo"] = repos[0]
        if len(repos) > 1:
            out["model_repos"] = repos
    for key, flag in (("http_port", "--http-port"), ("grpc_port", "--grpc-port"), ("metrics_port", "--metrics-port")):
        v = _opt(args, (flag,))
        if v is not None:
            out[key] = _int(v)
    for proto in ("http", "grpc", "metrics"):
        if _false(_opt(args, (f"--allow-{proto}",))):
            out[f"allow_{proto}"] = False
    for bc in _all(args, ("--backend-config",)):
        backend, _, setting = bc.partition(",")
        key, _, value = setting.partition("=")
        if backend == "python" and key in ("shm-default-byte-size", "shm-growth-byte-size"):
            out.setdefault("python_backend", {})[key] = _size(value)


def _launch_triton_server(args: list[str], out: dict[str, Any]) -> None:
    # argparse in scripts/launch_triton_server.py: --world_size (int, default 1), --tritonserver,
    # --model_repo, --grpc_port/--http_port/--metrics_port (str, defaults 8001/8000/8002).
    out["world_size"] = _count(_opt(args, ("--world_size",))) or 1
    repo = _opt(args, ("--model_repo",))
    if repo:
        out["model_repo"] = repo
    for key in ("http_port", "grpc_port", "metrics_port"):
        v = _opt(args, (f"--{key}",))
        if v is not None:
            out[key] = _int(v)
    ts = _opt(args, ("--tritonserver",))
    if ts:
        out["tritonserver"] = ts


def _trtllm_serve(args: list[str], out: dict[str, Any]) -> None:
    # click options of serve.py, read by trtdiag.derive.serve_launch (option values are consumed,
    # so `--port 8000 MODEL` finds MODEL; --tp_size and --tensor_parallel_size are one option)
    from ..derive.serve_launch import parse as serve_parse

    p = serve_parse(args)
    opts = p["options"]
    model = p["model"]
    if model:
        out["model"] = model
        if os.path.isdir(model) and _looks_like_engine_dir(model):
            out["engine_dir"] = model
    if "--port" in opts:
        out["http_port"] = _int(opts["--port"]) if isinstance(opts["--port"], str) else None
    tok = opts.get("--tokenizer")
    if isinstance(tok, str) and tok:
        out["tokenizer"] = tok
        if os.path.isdir(tok):
            out["tokenizer_dir"] = tok
    if p.get("yaml"):
        out["llmapi_yaml"] = p["yaml"]
    if p.get("sets"):
        out["llmapi_sets"] = p["sets"]
    out["host"] = p["host"]

    def size(*names: str) -> tuple[int, bool]:
        for n in names:
            if isinstance(opts.get(n), str):
                return (_count(opts[n]) or 1), True
        return 1, False

    tp, tp_given = size("--tp_size", "--tensor_parallel_size", "--tp-size")
    pp, pp_given = size("--pp_size", "--pipeline_parallel_size", "--pp-size")
    cp, cp_given = size("--cp_size", "--context_parallel_size")
    if tp * pp * cp > 1 or tp_given or pp_given or cp_given:
        out["world_size"] = tp * pp * cp


def _looks_like_engine_dir(path: str) -> bool:
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return any(n.endswith(".engine") for n in names)


def _split_mpi(argv: list[str]) -> tuple[list[list[str]], list[int], bool]:
    """mpirun's argv (without 'mpirun') -> the program argv and rank count of each MPMD segment,
    and whether hosts were named (ranks may then live on other machines)."""
    hosts = False
    programs: list[list[str]] = []
    ranks: list[int] = []
    segments: list[list[str]] = [[]]
    for a in argv:
        if a == ":":
            segments.append([])
        else:
            segments[-1].append(a)
    for seg in segments:
        n = None
        i = 0
        while i < len(seg):
            a = seg[i]
            if not a.startswith("-"):
                break
            name, eq, val = a.partition("=")
            if name in _MPI_HOSTS:
                hosts = True
            if name in _MPI_RANKS:
                n = _count(val) if eq else _count(seg[i + 1] if i + 1 < len(seg) else None)
            if eq:
                i += 1
            elif name in _MPI_TWO:
                i += 3
            elif name in _MPI_ONE:
                i += 2
            else:
                i += 1
        prog = seg[i:]
        if prog:
            programs.append(prog)
            ranks.append(n if n is not None else 1)
    return programs, ranks, hosts


def _unwrap(argv: list[str], depth: int = 0) -> list[str]:
    """Strip env/sh -c/nohup/exec wrappers: the argv of the program that does the work."""
    if depth > 5 or not argv:
        return argv
    base = os.path.basename(argv[0])
    if base == "env":
        i = 1
        while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
            i += 1
        return _unwrap(argv[i:], depth + 1)
    if base in ("nohup", "exec", "stdbuf", "numactl", "taskset", "nice", "time") and len(argv) > 1:
        i = 1
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
        if base == "taskset" and i < len(argv):  # the CPU list
            i += 1
        return _unwrap(argv[i:], depth + 1)
    if base in ("sh", "bash", "dash") and "-c" in argv[1:]:
        j = argv.index("-c", 1)
        if j + 1 < len(argv):
            import shlex  # only for a `sh -c` launch

            try:
                words = shlex.split(argv[j + 1], comments=True)
            except ValueError:
                return argv
            # `sh -c "cd /x && exec tritonserver …"`: the last simple command
            for sep in ("&&", ";", "||"):
                if sep in words:
                    words = words[len(words) - words[::-1].index(sep) :]
            words = [w for w in words if w != "&"]
            return _unwrap(words, depth + 1)
    return argv


def parse(argv: list[str]) -> dict[str, Any]:
    """Read a launch command line.  Keys (present only when the command says them):
    ``program``, ``kind`` (tritonserver, launch_triton_server, trtllm-serve, python, other),
    ``mpi`` ({"launcher", "ranks"}), ``world_size``, ``model_repo``, ``engine_dir``, ``model``,
    ``http_port``, ``grpc_port``, ``metrics_port``, ``allow_http``/``allow_grpc``/``allow_metrics``
    (only when false), ``python_backend`` (shm sizes from --backend-config)."""
    argv = [str(a) for a in argv]
    out: dict[str, Any] = {"argv": argv}
    cmd = _unwrap(argv)
    if not cmd:
        out["kind"] = "none"
        return out
    base = os.path.basename(cmd[0])
    if base in MPI_LAUNCHERS:
        programs, ranks, hosts = _split_mpi(cmd[1:])
        out["mpi"] = {"launcher": base, "ranks": sum(ranks) if ranks else None, "hosts": hosts}
        if ranks:
            out["world_size"] = sum(ranks)
        cmd = _unwrap(programs[0]) if programs else []
        base = os.path.basename(cmd[0]) if cmd else ""
    if _PYTHON_RE.match(base) and len(cmd) > 1:
        i = 1
        while i < len(cmd) and cmd[i].startswith("-") and cmd[i] != "-m":
            i += 2 if cmd[i] in ("-W", "-X") else 1
        if i < len(cmd) and cmd[i] == "-m" and i + 1 < len(cmd):
            script, rest = cmd[i + 1], cmd[i + 2 :]
        elif i < len(cmd):
            script, rest = cmd[i], cmd[i + 1 :]
        else:
            script, rest = "", []
        sbase = os.path.basename(script)
        if sbase in ("launch_triton_server.py", "launch_triton_server"):
            out["program"], out["kind"] = script, "launch_triton_server"
            ranks_from_mpi = out.get("world_size")
            _launch_triton_server(rest, out)
            if ranks_from_mpi and ranks_from_mpi > 1:
                out["world_size"] = ranks_from_mpi
            return out
        if sbase in ("trtllm-serve", "tensorrt_llm.commands.serve"):
            out["program"], out["kind"] = script, "trtllm-serve"
            _trtllm_serve(rest, out)
            return out
        out["program"], out["kind"] = cmd[0], "python"
        return out
    out["program"] = cmd[0] if cmd else ""
    if base == "tritonserver":
        out["kind"] = "tritonserver"
        _tritonserver(cmd[1:], out)
    elif base == "launch_triton_server.py":
        out["kind"] = "launch_triton_server"
        _launch_triton_server(cmd[1:], out)
    elif base == "trtllm-serve":
        out["kind"] = "trtllm-serve"
        _trtllm_serve(cmd[1:], out)
    else:
        out["kind"] = "other"
    return out


def options_from(parsed: dict[str, Any]) -> dict[str, Any]:
    """The facts options a launch command implies (exec sets those the user did not give)."""
    opts: dict[str, Any] = {}
    for k in ("model_repo", "engine_dir", "world_size", "tokenizer_dir"):
        if parsed.get(k) is not None:
            opts[k] = parsed[k]
    kind = parsed.get("kind")
    if kind in ("tritonserver", "launch_triton_server"):
        for k, default in DEFAULT_PORTS.items():
            proto = k.split("_")[0]
            if parsed.get(f"allow_{proto}") is False:
                continue
            opts[k] = parsed.get(k) if parsed.get(k) is not None else default
    elif kind == "trtllm-serve":
        opts["http_port"] = parsed.get("http_port") if parsed.get("http_port") is not None else 8000
    return opts


@probe("launch.command")
def launch_command(facts) -> dict[str, Any] | None:
    argv = facts.opt("launch_argv")
    if not argv:
        return None
    return parse(list(argv))
