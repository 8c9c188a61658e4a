"""System package commands, for the package manager this machine has.

The package manager is read from /etc/os-release (``ID`` and ``ID_LIKE``): Debian/Ubuntu → apt-get,
Fedora/RHEL/Rocky/Alma/CentOS → dnf (yum where dnf is absent).  A fix made here is a ``system``
change: ``trtdiag fix`` always shows it; only ``trtdiag fix --apply --allow-system-changes`` runs it.
"""

from __future__ import annotations

import os
import shutil

from ..model import Change, Fix
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


def os_release(path: str = "/etc/os-release") -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                k, sep, v = line.strip().partition("=")
                if sep:
                    out[k] = v.strip().strip('"').strip("'")
    except OSError:
        pass
    return out


def package_manager(osr: dict[str, str] | None = None) -> str | None:
    osr = os_release() if osr is None else osr
    ids = {osr.get("ID", "")} | set(osr.get("ID_LIKE", "").split())
    if ids & {"debian", "ubuntu"}:
        return "apt"
    if ids & {"fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn"}:
        return "dnf" if shutil.which("dnf") or not shutil.which("yum") else "yum"
    return None


def package_argv(purpose: str, manager: str) -> list[str] | None:
    spec = PACKAGES.get(purpose, {}).get(manager)
    if spec is None:
        return None
    verb, pkgs = spec
    tool = {"apt": "apt-get"}.get(manager, manager)
    argv = [tool, verb, "-y", *pkgs]
    if os.geteuid() != 0 and shutil.which("sudo"):
        argv = ["sudo", *argv]
    return argv


def package_fix(fix_id: str, summary: str, purpose: str, osr: dict[str, str] | None = None, note: str = "") -> Fix | None:
    """A ``system`` fix running the package command for ``purpose``; None on an unknown system."""
    mgr = package_manager(osr)
    argv = package_argv(purpose, mgr) if mgr else None
    if argv is None:
        return None
    preview = "$ " + command_line(argv)
    if note:
        preview += "\n# " + note
    return Fix(id=fix_id, summary=summary, safe=False, requires="--allow-system-changes",
               changes=[Change("system", argv=argv, note=note)], preview=preview)
