"""MPI004: mpirun may run as root."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import error, info, launch_plan, ok, warning


# --------------------------------------------------------------------------------- MPI004
@rule("MPI004", area="mpi", title="mpirun may run as root", kb="mpirun-as-root")
def mpirun_root(facts):
    """As root, Open MPI's ``mpirun`` refuses to start ("mpirun has detected an attempt to run as
    root") unless given ``--allow-run-as-root`` or both ``OMPI_ALLOW_RUN_AS_ROOT=1`` and
    ``OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1``.  Only checked when the launch goes through mpirun
    (``--world-size`` > 1, ``mpirun`` in the launch command, or an engine with more than one rank);
    ``launch_triton_server.py`` passes ``--allow-run-as-root`` itself.

    Fix: write both settings to ./trtdiag.env (``trtdiag fix --apply``) and source it in the launch
    script, or add ``--allow-run-as-root`` to the mpirun command.
    """
    plan = launch_plan(facts)
    if not plan["uses_mpirun"]:
        return
    la = facts["mpi.launch"]
    ev = {"euid": la["euid"], "mpirun because": "; ".join(plan["reasons"])}
    if la["euid"] != 0:
        yield ok("mpirun runs as a regular user", **ev)
        return
    import shlex

    from ...derive.mpi import ALLOW_ROOT

    env_ok = all(la["env"].get(k) == "1" for k in ALLOW_ROOT)
    file_ok = all(la["env_file_values"].get(k) == "1" for k in ALLOW_ROOT)
    if plan["allows_root"]:
        yield ok("mpirun runs as root with --allow-run-as-root", **ev, command=shlex.join(plan["argv"]))
        return
    if env_ok:
        yield ok("mpirun may run as root: OMPI_ALLOW_RUN_AS_ROOT and _CONFIRM are set", **ev)
        return
    if file_ok:
        ev["env file"] = la["env_file"]
        yield info(f"Open MPI allow-root settings are in {la['env_file']}, not in this environment",
                   f"mpirun will run as root only if the launch script sources {la['env_file']}: set -a; . {la['env_file']}; set +a",
                   evidence=ev)
        return

    ev["set"] = {k: la["env"].get(k, "unset") for k in ALLOW_ROOT}
    # with neither a launch command nor --world-size, mpirun is inferred from the engine's ranks
    # alone: the launcher is unknown, and tensorrtllm_backend's launch_triton_server.py (the usual
    # one) passes --allow-run-as-root itself: a warning, not an error
    guessed = not plan["argv"] and not plan.get("opt_world_size")
    if guessed:
        # the launch that will happen is not known here: say what to add to which command, and
        # propose no file (a ./trtdiag.env nobody sources mends nothing)
        yield info("Running as root: the mpirun that starts the ranks needs --allow-run-as-root",
                   "The engine has more than one rank (" + "; ".join(plan["reasons"]) + "), so its ranks start under mpirun, "
                   "as root here. tensorrtllm_backend's scripts/launch_triton_server.py passes --allow-run-as-root itself; "
                   "a mpirun command of your own needs it added (or OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                   "in its environment). `trtdiag exec -- LAUNCH COMMAND` judges the command that will run.", evidence=ev)
        return
    cmd = shlex.join(plan["argv"]) if plan["argv"] else None
    yield error("mpirun will refuse to run as root",
                "The launch goes through mpirun as root (" + "; ".join(plan["reasons"]) + "), without --allow-run-as-root and "
                "without OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1: mpirun stops with "
                "\"mpirun has detected an attempt to run as root\". "
                + (f"Add --allow-run-as-root to the mpirun of `{cmd}`, or apply this fix and source the file before it."
                   if cmd else "Add --allow-run-as-root to the mpirun command that starts the ranks, or apply this fix and source the "
                   "file before it."),
                evidence=ev,
                fix=hint("env-file", "MPI004-allow-root-env", f"set the Open MPI allow-root pair in {la['env_file']} (source it before mpirun)",
                                 la["env_file"], dict(ALLOW_ROOT)))
