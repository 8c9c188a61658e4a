"""System package commands, for the package manager this machine has.

The package manager is read from the machine's /etc/os-release (``ID`` and ``ID_LIKE``, recorded in
the ``host.system`` fact): Debian/Ubuntu → apt-get,
Fedora/RHEL/Rocky/Alma/CentOS → dnf (yum where dnf is absent).  A fix made here is a ``system``
change: ``trtdiag fix`` always shows it; only ``trtdiag fix --apply --allow-system-changes`` runs it.
"""

from __future__ import annotations

from ..core.finding import Change, Fix
from .plan import command_line

# purpose -> manager -> (verb, packages)
PACKAGES: dict[str, dict[str, tuple[str, list[str]]]] = {
    # the system hwloc that meets an Open MPI with its own embedded (opal_hwloc*_) hwloc
    "purge-system-hwloc": {
        "apt": ("purge", ["hwloc-nox", "libhwloc-dev", "libhwloc-plugins"]),
        "dnf": ("remove", ["hwloc-devel", "hwloc-plugins"]),
        "yum": ("remove", ["hwloc-devel", "hwloc-plugins"]),
    },
    # mpicc and mpi.h, to build mpi4py
    "mpi-dev": {
        "apt": ("install", ["libopenmpi-dev", "openmpi-bin"]),
        "dnf": ("install", ["openmpi-devel"]),
        "yum": ("install", ["openmpi-devel"]),
    },
}


def package_manager(system: dict) -> str | None:
    osr = system.get("os_release") or {}
    tools = system.get("tools") or {}
    ids = {osr.get("ID", "")} | set(osr.get("ID_LIKE", "").split())
    if ids & {"debian", "ubuntu"}:
        return "apt"
    if ids & {"fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn"}:
        return "dnf" if tools.get("dnf") or not tools.get("yum") else "yum"
    return None


def package_argv(purpose: str, manager: str, system: dict) -> list[str] | None:
    spec = PACKAGES.get(purpose, {}).get(manager)
    if spec is None:
        return None
    verb, pkgs = spec
    tool = {"apt": "apt-get"}.get(manager, manager)
    argv = [tool, verb, "-y", *pkgs]
    if system.get("euid") not in (0, None) and (system.get("tools") or {}).get("sudo"):
        argv = ["sudo", *argv]
    return argv


def package_fix(facts, fix_id: str, summary: str, purpose: str, note: str = "") -> Fix | None:
    """A ``system`` fix running the package command for ``purpose``; None on an unknown system."""
    system = facts.get("host.system") or {}
    mgr = package_manager(system)
    argv = package_argv(purpose, mgr, system) if mgr else None
    if argv is None:
        return None
    preview = "$ " + command_line(argv)
    if note:
        preview += "\n# " + note
    return Fix(id=fix_id, summary=summary, safe=False, requires="--allow-system-changes",
               changes=[Change("system", argv=argv, note=note)], preview=preview)
