"""trtdiag report: one paste that tells maintainers everything — the environment (OS, Python,
driver, CUDA, GPUs, TensorRT, TensorRT-LLM, Triton backend, transformers, MPI, container) and every
finding, as markdown (default) or JSON.  --redact hides user and host names, home paths, IP and MAC
addresses and GPU UUIDs/serials everywhere in the output."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..main import HelpFormatter, add_select_options, add_target_options, context_of, run_checks

EXAMPLES = """\
examples:
  trtdiag report --redact > report.md            paste into a GitHub issue
  trtdiag report --engine-dir /engines/llama-7b --model-repo /models --redact
  trtdiag report --json --redact -o report.json
  trtdiag report --from node0.json --from node1.json   a report for several ranks' snapshots
"""

NOT_FOUND = "not found"
PACKAGES = (("transformers", "transformers"), ("tokenizers", "tokenizers"), ("mpi4py", "mpi4py"), ("torch", "PyTorch"),
            ("tritonclient", "tritonclient"), ("nvidia-ml-py", "nvidia-ml-py"), ("cuda-python", "cuda-python"))


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="environment + findings, ready to paste into a bug report (--redact)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    add_target_options(p)
    add_select_options(p)
    g = p.add_argument_group("output")
    fmt = g.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="the report as JSON (schema trtdiag.report/1, environment in 'context')")
    fmt.add_argument("--markdown", action="store_true", help="markdown (the default)")
    g.add_argument("--redact", action="store_true", help="hide user and host names, home paths, IP/MAC addresses and GPU UUIDs/serials")
    g.add_argument("-o", "--output", metavar="FILE", default="-", help="write the report here (default: standard output)")
    g.add_argument("--strict", action="store_true", help="warnings count as errors for the exit code")
    return p


def _get(facts, name: str) -> Any:
    try:
        return facts.get(name)
    except Exception:  # a probe module absent from this build
        return None


def _gib(n: Any) -> str:
    return f"{n / 1024**3:.1f} GiB" if isinstance(n, (int, float)) else "?"


def _local_version(dist: str) -> str | None:
    try:
        from importlib import metadata

        return metadata.version(dist)
    except Exception:
        return None


def environment(facts) -> dict[str, Any]:
    """The environment rows of a report, from facts (other areas' where present), 'not found' otherwise."""
    from ... import __version__
    from ...engine.fleet import gather_local

    gather_local(facts)
    env = _get(facts, "env.summary") or {}
    ctx: dict[str, Any] = {"trtdiag": __version__}
    ctx["os"] = env.get("os") or NOT_FOUND
    if env.get("kernel"):
        ctx["kernel"] = f"{env['kernel']} ({env.get('machine')})"
    ctx["host"] = env.get("hostname") or NOT_FOUND
    ctx["user"] = env.get("user") or (f"uid {env['uid']}" if env.get("uid") is not None else NOT_FOUND)
    pk = _get(facts, "python.packages") or {}
    ctx["python"] = f"{pk.get('version') or env.get('python') or NOT_FOUND} ({pk.get('python') or env.get('python_executable')})"
    cinfo = _get(facts, "container.info")  # the container area's fact, when this build has it
    cont = env.get("container") or {}
    rt = cinfo.get("runtime") if isinstance(cinfo, dict) and isinstance(cinfo.get("runtime"), dict) else None
    if rt is not None:
        ctx["container"] = (f"{rt.get('runtime') or 'yes'} ({', '.join(rt.get('markers') or [])})" if rt.get("in_container") else "not detected")
        shm = cinfo.get("shm") or {}
        if isinstance(shm.get("size"), int):
            ctx["/dev/shm"] = f"{_gib(shm['size'])} ({_gib(shm.get('free'))} free)"
        memlock = (cinfo.get("ulimits") or {}).get("memlock") or {}
        if "soft" in memlock:
            soft = memlock["soft"]
            ctx["ulimit memlock"] = ("unlimited" if soft is None else
                                     f"{soft / (1 << 20):g} MiB" if isinstance(soft, int) and soft >= 1 << 20 else f"{soft} bytes")
        images = cinfo.get("versions") if isinstance(cinfo.get("versions"), dict) else {}
    else:
        ctx["container"] = ("yes (" + ", ".join(cont.get("markers") or []) + ")") if cont.get("detected") else ("not detected" if env else NOT_FOUND)
        images = cont.get("image") or {}
    for k, v in images.items():
        ctx[f"image {k}"] = v

    inv = _get(facts, "gpu.inventory")
    if isinstance(inv, dict):
        cd = inv.get("cuda_driver")
        ctx["nvidia driver"] = inv.get("driver") or f"{NOT_FOUND} ({inv.get('nvml_error')})"
        ctx["cuda (driver supports)"] = f"{cd // 1000}.{cd % 1000 // 10}" if isinstance(cd, int) else NOT_FOUND
        gpus = [g for g in inv.get("gpus") or [] if isinstance(g, dict)]
        ctx["gpus"] = [f"{g.get('index')}: {g.get('name')} (cc {'.'.join(map(str, g.get('cc') or [])) or '?'}, "
                       f"{_gib(g.get('total'))}, {_gib(g.get('free'))} free)" for g in gpus] or NOT_FOUND
    else:
        ctx["nvidia driver"] = ctx["gpus"] = NOT_FOUND

    trt = _get(facts, "trt.installed")
    ctx["tensorrt"] = (f"{trt['version']} ({trt.get('source')})" if isinstance(trt, dict) and trt.get("version") else NOT_FOUND)
    llm = _get(facts, "trtllm.installed")
    ctx["tensorrt-llm"] = (f"{llm['version']}" + (f" ({llm['commit'][:12]})" if llm.get("commit") else "")
                           if isinstance(llm, dict) and llm.get("version") else NOT_FOUND)
    ctx["tensorrtllm_backend"] = env.get("trtllm_backend") or NOT_FOUND
    pkgs = pk.get("packages") if isinstance(pk.get("packages"), dict) else None
    for dist, label in PACKAGES:
        v = pkgs.get(dist) if pkgs is not None else (None if facts.from_snapshot else _local_version(dist))
        ctx[label] = v or NOT_FOUND
    libs = env.get("libraries") or {}
    mpi = _get(facts, "mpi.runtime")  # the MPI area's fact: the libmpi the loader will really pick
    if isinstance(mpi, dict) and isinstance(mpi.get("libmpi"), dict):
        lib = mpi["libmpi"]
        ctx["mpi"] = (f"{mpi.get('implementation') or 'MPI'} {mpi.get('version') or '?'} "
                      f"({lib.get('realpath') or lib.get('path')} via {lib.get('how')})")
        if isinstance(mpi.get("mpirun"), dict):
            ctx["mpirun"] = mpi["mpirun"].get("path")
    else:
        ctx["mpi library"] = libs.get("mpi") or NOT_FOUND
    ctx["hwloc library"] = libs.get("hwloc") or NOT_FOUND
    from ...rules.fleet.common import ranks_of

    ranks = ranks_of(facts)
    if ranks:  # several --from snapshots: the environment above is the first one's
        ctx["ranks"] = [r.label for r in ranks]
    ctx.update(context_of(facts))  # the target: engine_dir, model_repo, python, snapshot
    if facts.options.get("tokenizer_dir"):
        ctx["tokenizer_dir"] = facts.options["tokenizer_dir"]
    return ctx


def build(args) -> dict[str, Any]:
    """The report as a JSON-able dict (redacted when asked)."""
    report, facts = run_checks(args, "report")
    try:
        report.context = environment(facts)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        if not facts.from_snapshot:
            raise  # live facts of the wrong shape are a bug in a probe
        from ...core.errors import InputError

        raise InputError(f"{(getattr(args, 'snapshots', None) or ['the snapshot'])[0]}: a recorded fact does not have the shape "
                         f"this trtdiag writes ({type(exc).__name__}: {exc}); collect it again with this version") from None
    data = report.to_dict()
    if getattr(args, "redact", False):
        from ...redact import redact

        data = redact(data, also=_get(facts, "fleet.snapshots"))
        data["context"]["redacted"] = True
    return data


def run(args) -> int:
    from ...render import markdown as render
    from ...core.finding import Finding, Report

    data = build(args)
    rep = Report(command="report", findings=[Finding.from_dict(f) for f in data["findings"]], context=data["context"], empty="No checks applied here.",
                 not_applicable=data["not_applicable"], duration_s=data["duration_s"])
    if args.json:
        import json

        text = json.dumps(data, indent=2, default=str) + "\n"
    else:
        text = render.markdown(rep)
    if args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        from ...fsutil import write_output

        write_output(args.output, text)
        print(f"report written to {args.output}", file=sys.stderr)
    return rep.exit_code(getattr(args, "strict", False))
