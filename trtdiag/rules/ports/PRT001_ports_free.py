"""PRT001: Triton's HTTP, gRPC and metrics ports are free."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import _who, command_line, error, ok, warning


@rule("PRT001", area="ports", title="Triton's HTTP, gRPC and metrics ports are free", kb="triton-port-in-use")
def ports_free(facts):
    """Binds each port tritonserver will listen on (8000 HTTP, 8001 gRPC, 8002 metrics, or
    --http-port/--grpc-port/--metrics-port) on 0.0.0.0, and names the process holding a taken
    one: pid, name, command line, user, and whether it is an earlier tritonserver.

    Why: tritonserver exits at start with "failed to start HTTP service: Unavailable - Socket
    '0.0.0.0:8000' already in use" (or the gRPC/metrics equivalent) — usually yesterday's server
    or container still running.

    A service the launch command turns off (``--allow-http false``, ``--allow-grpc false``,
    ``--allow-metrics false``) binds no port, so its port is not checked.

    Severity: error when a launch is in view (exec's launch command, a model repository, port
    options); a warning on a machine that is only being checked.

    Fix: launch on the free ports shown (``tritonserver --http-port 8010 --grpc-port 8011
    --metrics-port 8012 …``, verified free), or stop the earlier tritonserver with ``trtdiag fix
    --apply --kill`` (never PID 1 or another user's process; a docker-proxy holder means a
    container publishes the port: ``docker ps --filter publish=PORT``).
    """
    from ...derive.ports import command_line as _line, free_ports_argv, may_kill

    data = facts["net.ports"]
    ports = data.get("ports") or []
    taken = [r for r in ports if not r.get("free")]
    if not ports:
        return  # every service is turned off by the launch command: nothing will be bound
    if not taken:
        off = data.get("disabled") or []
        yield ok("Ports " + ", ".join(f"{r['port']} ({r['service']})" for r in ports) + " are free"
                 + (f" ({', '.join(off)} turned off by the launch command)" if off else ""), address=data.get("address"))
        return
    launch = facts.opt("launch_argv") or None
    repo = facts.get("triton.repo")
    if not launch:
        launch = ["tritonserver", "--model-repository", repo["root"] if repo else "<repo>"]
    # an error when a Triton launch is in view (a launch command, a model repository, port options);
    # on a machine merely being checked, a busy 8000 is a warning, not a failure
    serving = bool(facts.opt("launch_argv") or repo or any(facts.opt(f"{s}_port") for s in ("http", "grpc", "metrics")))
    report = error if serving else warning
    alt_argv = free_ports_argv(ports, data.get("suggested"), launch)
    alt = hint("use-free-ports", ports, data.get("suggested"), launch) if alt_argv else None
    uid = data.get("uid", -1)
    for r in taken:
        h = r.get("holder")
        ev = {"port": r["port"], "service": r["service"], "address": data.get("address"), "bind error": r.get("error")}
        if h:
            ev.update({k: h.get(k) for k in ("pid", "name", "user", "is_tritonserver") if h.get(k) is not None})
            if h.get("cmdline"):  # one shell-quoted line (an argument may hold newlines or commas)
                ev["cmdline"] = command_line(h["cmdline"]).replace("\n", "\\n")
            if h.get("note"):
                ev["note"] = h["note"]
        if r.get("error") != "in use":
            yield report(f"{r['service']} port {r['port']} cannot be bound: {r.get('error')}",
                        f"tritonserver will fail to start its {r['service']} service on {data.get('address')}:{r['port']} ({r.get('error')}). Use a port above 1023.",
                        evidence=ev, fix=alt)
            continue
        who = _who(h)
        if h and h.get("is_tritonserver"):
            what = f"an earlier tritonserver, {who}, still holds it"
        elif h and h.get("is_docker_proxy"):
            what = f"a Docker container publishes it ({who}); find it with: docker ps --filter publish={r['port']}"
        else:
            what = f"{who} holds it"
        why_not = may_kill(h, uid)
        fix = hint("stop-port-holder", h, r["port"], uid) if h and why_not is None else None
        remedy = ""
        if alt:
            remedy = f" Launch on free ports instead: {_line(alt_argv)}"
        if fix:
            remedy += f" Or stop it: trtdiag fix --apply --kill --fix stop-port-holder (PID {h['pid']})."
        elif why_not:
            ev["not stopped because"] = why_not
        yield report(f"{r['service']} port {r['port']} is in use: {(h or {}).get('name') or 'holder unknown'}" + (f" (PID {h['pid']})" if h and h.get("pid") else ""),
                    f"tritonserver cannot bind {data.get('address')}:{r['port']} for {r['service']} (\"Socket '0.0.0.0:{r['port']}' already in use\"): {what}.{remedy}",
                    evidence=ev, fix=fix or alt)
