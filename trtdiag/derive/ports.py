"""Pure helpers over the ``net.ports`` fact: the launch command on other ports, and whether a
port's holder may be stopped (the applier asks the same again before it signals)."""

from __future__ import annotations

from typing import Any

PORT_FLAGS = {"http": "--http-port", "grpc": "--grpc-port", "metrics": "--metrics-port"}


LAUNCH_SCRIPT_FLAGS = {"http": "--http_port", "grpc": "--grpc_port", "metrics": "--metrics_port"}  # scripts/launch_triton_server.py


def launch_argv(launch: list[str] | None, assignment: dict[str, int]) -> list[str]:
    """The launch command with the port options set: replaced where present, else added after the
    first ``tritonserver`` (so an ``mpirun … tritonserver … : …`` line stays valid) or at the end.
    tensorrtllm_backend's scripts/launch_triton_server.py spells them --http_port etc."""
    argv = list(launch or ["tritonserver", "--model-repository", "<repo>"])
    script = any(a.endswith("launch_triton_server.py") for a in argv)
    names = LAUNCH_SCRIPT_FLAGS if script else PORT_FLAGS
    flags = {names[s]: str(p) for s, p in assignment.items()}
    out: list[str] = []
    seen = set()
    i = 0
    while i < len(argv):
        a = argv[i]
        key = a.split("=", 1)[0]
        if key in flags:
            seen.add(key)
            if "=" in a:
                out.append(f"{key}={flags[key]}")
            else:
                out += [a, flags[key]]
                i += 1
            i += 1
            continue
        out.append(a)
        i += 1
    missing = [x for k, v in flags.items() if k not in seen for x in (k, v)]
    if not missing:
        return out
    at = next((j + 1 for j, a in enumerate(out) if a.rsplit("/", 1)[-1] == "tritonserver"), len(out)) if not script else len(out)
    return out[:at] + missing + out[at:]


def may_kill(holder: dict[str, Any] | None, my_uid: int) -> str | None:
    """None when stopping ``holder`` may be offered, else why not."""
    if not holder or not holder.get("pid"):
        return "the holder is not visible to this user"
    if holder["pid"] <= 1:
        return f"PID {holder['pid']} is the init process (in a container: the container itself); trtdiag never stops it"
    if holder.get("uid") is None or (holder["uid"] != my_uid):
        return f"PID {holder['pid']} belongs to another user ({holder.get('user') or 'unknown'}); trtdiag never stops it"
    if not holder.get("is_tritonserver"):
        return f"PID {holder['pid']} ({holder.get('name')}) is not a tritonserver; stop it yourself if you are sure"
    return None


def free_ports_argv(ports: list[dict[str, Any]], suggested: list[int] | None, launch: list[str] | None) -> list[str] | None:
    """The launch command on the suggested free ports; None when none were found."""
    if not suggested:
        return None
    return launch_argv(launch, {r["service"]: p for r, p in zip(ports, suggested)})


def command_line(argv: list[str]) -> str:
    import shlex  # only when a port is taken and the command is shown

    return shlex.join(argv)
