"""MEM0xx: will the engine load on each rank's GPU, does its KV cache hold max_batch_size
full-length sequences, who else holds GPU memory, and do the KV cache settings of the Triton
tensorrt_llm model make sense.  The arithmetic lives in :mod:`trtdiag.memory`.

Facts read: ``engine.info`` (normalized config and per-rank engine sizes), ``gpu.inventory``,
``triton.repo`` (the tensorrt_llm model's parameters).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ProbeError
from ..model import error, info, ok, warning
from ..registry import check

GiB = 1 << 30
DEFAULT_KV_FRACTION = 0.9  # = trtdiag.memory.DEFAULT_KV_FRACTION (the model is imported only when an engine is checked)

KV_KEYS = ("kv_cache_free_gpu_mem_fraction", "max_tokens_in_paged_kv_cache", "max_attention_window_size")


def _fact(facts, name: str) -> Any:
    """A fact, or None when its probe failed or is not part of this installation."""
    try:
        return facts[name]
    except (ProbeError, ImportError, KeyError):
        return None


def _filled(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return None if not s or "${" in s else s


def trtllm_model(facts) -> tuple[str | None, dict | None]:
    repo = _fact(facts, "triton.repo")
    if not isinstance(repo, dict):
        return None, None
    name = repo.get("trtllm_model")
    m = (repo.get("models") or {}).get(name) if name else None
    return (name, m) if isinstance(m, dict) else (None, None)


def _float(s: str | None) -> float | None:
    try:
        return float(s) if s is not None else None
    except ValueError:
        return None


def _int(s: str | None) -> int | None:
    try:
        return int(s) if s is not None else None
    except ValueError:
        return None


def serving_of(model_cfg: dict | None):
    """The KV settings the backend will use (a :class:`trtdiag.memory.Serving`; invalid values fall
    back to the defaults here, MEM004 reports them), and the raw values found."""
    from .. import memory as mm

    params = (model_cfg or {}).get("parameters") or {}
    raw = {k: _filled(params.get(k)) for k in KV_KEYS}
    frac = _float(raw["kv_cache_free_gpu_mem_fraction"])
    if frac is not None and not 0 < frac < 1:
        frac = None
    tokens = _int(raw["max_tokens_in_paged_kv_cache"])
    window = _int(raw["max_attention_window_size"])
    return mm.Serving(kv_fraction=frac, max_tokens=tokens if tokens and tokens > 0 else None,
                      max_attention_window=window if window and window > 0 else None), {k: v for k, v in raw.items() if v is not None}


def rank_gpu(inv: dict, gpu_index: int) -> dict | None:
    """The GPU a rank with ``gpu_index`` (its local rank, under ``check --mpi``) will use: the only
    visible one, else CUDA device ``gpu_index`` (gpu.inventory numbers the GPUs CUDA_VISIBLE_DEVICES
    leaves from 0, as CUDA does)."""
    gpus = [g for g in inv.get("gpus") or [] if isinstance(g, dict)]
    if len(gpus) == 1:
        return gpus[0]
    for g in gpus:
        if g.get("index") == gpu_index:
            return g
    return gpus[gpu_index] if 0 <= gpu_index < len(gpus) else None


def own_rank(facts) -> tuple[int, int] | None:
    """(this process's rank, the index of its GPU in gpu.inventory's list) when the option
    ``gpu_index`` says which GPU this process will use (``check --mpi``), else None."""
    gi = facts.opt("gpu_index")
    if not isinstance(gi, int) or isinstance(gi, bool):
        return None
    fr = _fact(facts, "fleet.rank")
    r = fr.get("rank") if isinstance(fr, dict) else None
    return (r if isinstance(r, int) and r >= 0 else gi), gi


class Plan:
    """Everything the memory checks need about one deployment, built once per Facts."""

    def __init__(self, facts):
        self.ok = False
        eng = _fact(facts, "engine.info")
        inv = _fact(facts, "gpu.inventory")
        if not isinstance(eng, dict) or not isinstance(inv, dict) or inv.get("nvml_error") or not inv.get("gpus"):
            return
        if not all(isinstance(g, dict) and isinstance(g.get("free"), int) for g in inv["gpus"]):
            return  # a recording without memory readings: nothing to compare with
        from .. import memory as mm

        n = mm.clean_normalized(eng.get("normalized"))
        model = mm.model_from_engine(n)
        if model is None or not n.get("max_batch_size"):
            return
        self.n = n
        self.checkpoint_dir = facts.opt("checkpoint_dir")
        self.engine_dir = facts.opt("engine_dir")
        sets = facts.opt("set")
        self.output_dir = sets.get("__output_dir") if isinstance(sets, dict) else None
        self.model = model
        self.build = mm.build_from_engine(n)
        self.gpus = inv["gpus"]
        self.recorded = str(inv.get("source", "")).startswith("recorded") or facts.from_snapshot
        self.model_name, self.model_cfg = trtllm_model(facts)
        self.serving, self.raw = serving_of(self.model_cfg)
        ranks = {r.get("rank"): r for r in eng.get("ranks") or [] if isinstance(r, dict)}
        sizes = [r.get("size") for r in ranks.values() if isinstance(r.get("size"), int)]
        self.world = n.get("world_size") or self.build.tp * self.build.pp
        mine = own_rank(facts)
        if mine is not None:  # one rank of `check --mpi`: its own GPU only (the other ranks check theirs)
            g = rank_gpu(inv, mine[1])
            if g is None:
                return  # its GPU is not visible here: the GPU checks say so
            pairs = [(mine[0], g)]
        else:  # ranks 0 … tp × pp - 1 on GPUs 0 … of those visible
            pairs = [(r, self.gpus[r]) for r in range(min(self.world, len(self.gpus)))]
        self.own_rank = mine is not None
        self.checked = len(pairs)
        self.ranks: list = []
        for r, g in pairs:
            size = (ranks.get(r) or {}).get("size")
            w = size if isinstance(size, int) else (max(sizes) if sizes else None)
            e = mm.estimate(self.model, self.build, int(g.get("free") or 0), self.serving, weights=w)
            self.ranks.append(mm.RankPlan(rank=r, gpu=g, estimate=e))
        self.worst = min(self.ranks, key=lambda rp: (rp.estimate["fits_load"], rp.estimate["free_after_load"]))
        self.ok = True

    def answers(self) -> dict[str, Any]:
        from .. import memory as mm

        if not hasattr(self, "_answers"):
            rp = self.worst
            self._answers = mm.answers(self.model, self.build, int(rp.gpu.get("free") or 0), self.serving,
                                       weights=rp.estimate["weights"] if rp.estimate["weights_source"] == "engine file" else None,
                                       cc=rp.gpu.get("cc"))
        return self._answers

    def per_rank(self) -> list[dict[str, Any]]:
        from .. import memory as mm

        out = []
        for rp in self.ranks:
            d = {"rank": rp.rank, "gpu": rp.gpu.get("index"), "gpu_name": rp.gpu.get("name")}
            d.update(mm.breakdown(rp.estimate))
            out.append(d)
        return out

    def arithmetic(self) -> str:
        from .. import memory as mm

        return "\n".join(f"rank {rp.rank} on GPU {rp.gpu.get('index')}: {mm.summary(rp.estimate)}" for rp in self.ranks)

    def without_others(self, rp) -> tuple[int, dict[str, Any]] | None:
        """(bytes other processes hold on the rank's GPU, the estimate if they were stopped)."""
        from .. import memory as mm

        held = sum(p.get("used") or 0 for p in rp.gpu.get("procs") or [] if p.get("pid") != os.getpid())
        if not held:
            return None
        e = rp.estimate
        return held, mm.estimate(self.model, self.build, e["free_before_load"] + held, self.serving,
                                 weights=e["weights"] if e["weights_source"] == "engine file" else None)

    def others_on(self, g: dict) -> list[str]:
        return [f"PID {p.get('pid')} ({p.get('name') or 'unknown'}) {p['used'] / GiB:.2f} GiB"
                for p in g.get("procs") or [] if p.get("pid") != os.getpid() and p.get("used")]


def plan_of(facts) -> Plan:
    p = getattr(facts, "_memory_plan", None)
    if p is None:
        p = Plan(facts)
        facts._memory_plan = p
    return p


def _best_rebuild(plan: Plan):
    """The smallest rebuild that fits: weight-only first (keeps the batch), else a smaller batch."""
    from ..fixes import kv_cache as kvfix

    ans = plan.answers()
    for row in ans["precisions"][1:]:
        if row["fits"] and "KV" not in row["precision"] and "weight-only" in row["precision"]:
            return kvfix.rebuild_fix(plan.n, weight_only=row["precision"].split()[0])
    if ans["max_batch_size_at_built_lengths"] >= 1:
        return kvfix.rebuild_fix(plan.n, max_batch_size=ans["max_batch_size_at_built_lengths"], checkpoint_dir=plan.checkpoint_dir,
                                 engine_dir=plan.engine_dir, output_dir=plan.output_dir)
    lt = ans["lengths_at_built_batch"]
    if lt:
        return kvfix.rebuild_fix(plan.n, max_input_len=lt["max_input_len"], max_output_len=lt["max_output_len"], checkpoint_dir=plan.checkpoint_dir,
                                 engine_dir=plan.engine_dir, output_dir=plan.output_dir)
    return None


@check("MEM001", area="memory", title="Engine fits in each rank's free GPU memory", kb="gpu-out-of-memory")
def engine_loads(facts):
    """Checks, for every rank of tp × pp, that the engine's weights (the rank's engine file), its
    activation memory (max_num_tokens, or max_batch_size × max_input_len) and the CUDA context fit
    in the free memory of the GPU that rank will use (GPUs 0 … tp × pp - 1 of those visible; under
    ``check --mpi`` each rank checks only its own GPU, local rank → GPU), and that something is
    left for the KV cache.

    Why: otherwise the server dies at load with an out-of-memory error (CUDA error "out of
    memory", "Requested amount of GPU memory … could not be allocated").

    Fix: free the GPU (MEM003), or rebuild smaller: weight-only int8/int4 quantization
    (convert_checkpoint.py --use_weight_only --weight_only_precision int4), a smaller
    max_batch_size or shorter max_input_len / max_output_len, or more tensor-parallel ranks.
    The finding's table says which of these fit.
    """

    plan = plan_of(facts)
    if not plan.ok:
        return
    from .. import memory as mm
    from ..fixes import kv_cache as kvfix

    rp = plan.worst
    e = rp.estimate
    g = rp.gpu
    ev: dict[str, Any] = {"arithmetic": plan.arithmetic()}
    if plan.own_rank:
        ev["checked"] = f"rank {rp.rank} only, on the GPU it will use (local rank → GPU {g.get('index')}); every rank checks its own"
    elif plan.world > plan.checked:
        ev["not checked"] = f"ranks {plan.checked}..{plan.world - 1}: only {len(plan.gpus)} GPU(s) visible here"
    if e["fits_load"]:
        ev["per_rank"] = plan.per_rank()
        yield ok(f"Engine loads: rank {rp.rank} keeps {e['free_after_load'] / mm.GiB:.2f} GiB after load on GPU {g.get('index')} ({g.get('name')})", **ev)
        return
    others = plan.others_on(g)
    if others:
        ev["other processes on this GPU"] = others
    ev["what fits"] = mm.table(plan.answers(), plan.build)
    short = e["deficit"] / mm.GiB
    need = (e["weights"] + e["activations"] + e["overhead"]) / mm.GiB
    msg = (f"Rank {rp.rank} needs {need:.2f} GiB to load (weights {e['weights'] / mm.GiB:.2f} + activations {e['activations'] / mm.GiB:.2f}"
           f" + CUDA context {e['overhead'] / mm.GiB:.2f})" + (f" plus {e['kv_bytes'] / mm.GiB:.2f} GiB of contiguous KV cache" if e["rule"] == "contiguous" else "")
           + f", but GPU {g.get('index')} ({g.get('name')}) has {e['free_before_load'] / mm.GiB:.2f} GiB free.")
    if e["rule"] == "paged" and e["deficit"] == 0:
        msg += " Nothing would be left for a single KV-cache block."
    fix = None
    if others:
        msg += " Other processes hold memory on it: " + "; ".join(others) + "."
        wo = plan.without_others(rp)
        if wo and wo[1]["fits_load"]:
            msg += (f" Without them the engine would load ({wo[1]['kv_sequences']} full-length sequences in the KV cache):"
                    " stop them first (MEM003; `trtdiag fix --apply --kill`).")
        else:
            fix = _best_rebuild(plan)
    else:
        fix = _best_rebuild(plan)
    ev.update(per_rank=plan.per_rank(), answers=plan.answers())  # structured, for --json
    yield error(f"Engine does not fit on GPU {g.get('index')}: {short:.2f} GiB short" if short > 0 else f"Engine leaves no room for the KV cache on GPU {g.get('index')}",
                msg, evidence=ev, fix=fix)


@check("MEM002", area="memory", title="KV cache holds max_batch_size full-length sequences", kb="kv-cache-insufficient")
def kv_capacity(facts):
    """Checks that the KV cache left after the engine loads holds max_batch_size sequences of
    max_seq_len tokens (max_input_len + max_output_len, or max_attention_window_size) on every
    rank: paged KV cache = kv_cache_free_gpu_mem_fraction (default 0.9) × free memory after load,
    capped by max_tokens_in_paged_kv_cache, in blocks of tokens_per_block; bytes per token =
    2 × layers × kv_heads/tp × head_size × bytes of the KV dtype.

    Why: the server starts, but serves fewer requests at once than max_batch_size: with the
    guaranteed_no_evict scheduler a request is admitted only when blocks for its full length are
    free, so the rest queue; with max_utilization they start and are paused when the cache fills.

    Fix: raise kv_cache_free_gpu_mem_fraction (below 1.0) or drop a low
    max_tokens_in_paged_kv_cache in the tensorrt_llm model's config.pbtxt; else rebuild with
    int8/int4 weight-only quantization, an fp8/int8 KV cache, or a smaller max_batch_size.
    """

    plan = plan_of(facts)
    if not plan.ok:
        return
    from .. import memory as mm
    from ..fixes import kv_cache as kvfix

    loaded = [rp for rp in plan.ranks if rp.estimate["fits_load"]]
    if not loaded:
        return  # MEM001 reports it
    rp = min(loaded, key=lambda r: r.estimate["kv_sequences"])
    e = rp.estimate
    b = plan.build.max_batch_size
    ev: dict[str, Any] = {"arithmetic": plan.arithmetic()}
    if plan.raw:
        ev["config.pbtxt"] = dict(plan.raw)
    if e["kv_sequences"] >= b:
        ev["per_rank"] = plan.per_rank()
        yield ok(f"KV cache holds {e['kv_sequences']:,} sequences of {e['kv_tokens_per_sequence']:,} tokens (max_batch_size {b})", **ev)
        return
    ev["what fits"] = mm.table(plan.answers(), plan.build)
    policy = _filled(((plan.model_cfg or {}).get("parameters") or {}).get("batch_scheduler_policy")) or "guaranteed_no_evict"
    capped = e.get("kv_capped_by")
    msg = (f"On rank {rp.rank} the KV cache holds {e['kv_tokens']:,} tokens ({e['kv_bytes'] / mm.GiB:.2f} GiB at {e['kv_bytes_per_token']:,} B per token)"
           f" = {e['kv_sequences']} sequences of {e['kv_tokens_per_sequence']} tokens, but the engine is built for max_batch_size {b}."
           + (f" The cache is capped by max_tokens_in_paged_kv_cache = {plan.serving.max_tokens}." if capped else ""))
    wo = plan.without_others(rp)
    if wo:
        msg += (f" Other processes hold {wo[0] / mm.GiB:.2f} GiB on GPU {rp.gpu.get('index')} ({'; '.join(plan.others_on(rp.gpu))}):"
                f" without them it would hold {wo[1]['kv_sequences']} sequences"
                + (": stop them first (MEM003; `trtdiag fix --apply --kill`)." if wo[1]["kv_sequences"] >= b else " (MEM003)."))
    if policy == "guaranteed_no_evict":
        msg += f" With the {policy} scheduler at most {e['kv_sequences']} full-length requests run at once; the others wait."
    else:
        msg += f" With the {policy} scheduler more requests start, and are paused when the cache fills."
    fix = None
    cfg_path = (plan.model_cfg or {}).get("config_path")
    if cfg_path and capped:
        fix = kvfix.parameter_fix("kv-cache-max-tokens", f"raise max_tokens_in_paged_kv_cache to {b * e['kv_tokens_per_sequence']} ({b} × {e['kv_tokens_per_sequence']})",
                                  cfg_path, "max_tokens_in_paged_kv_cache", str(b * e["kv_tokens_per_sequence"]))
    if fix is None and cfg_path and (plan.serving.kv_fraction or mm.DEFAULT_KV_FRACTION) < mm.DEFAULT_KV_FRACTION:
        better = mm.estimate(plan.model, plan.build, e["free_before_load"], mm.Serving(mm.DEFAULT_KV_FRACTION, plan.serving.max_tokens, plan.serving.max_attention_window),
                             weights=e["weights"] if e["weights_source"] == "engine file" else None)
        fix = kvfix.parameter_fix("kv-cache-fraction", f"raise kv_cache_free_gpu_mem_fraction to {mm.DEFAULT_KV_FRACTION} (holds {better['kv_sequences']} sequences)",
                                  cfg_path, "kv_cache_free_gpu_mem_fraction", str(mm.DEFAULT_KV_FRACTION))
    if fix is None and not (wo and wo[1]["kv_sequences"] >= b):  # else stopping the other process is the fix (MEM003)
        fix = _best_rebuild(plan)
    ev.update(per_rank=plan.per_rank(), answers=plan.answers())  # structured, for --json
    yield warning(f"KV cache holds {e['kv_sequences']} of {b} full-length sequences", msg, evidence=ev, fix=fix)


@check("MEM003", area="memory", title="No other process holds GPU memory", kb="gpu-memory-held-by-other-process")
def other_processes(facts):
    """Lists processes that hold memory on the GPUs this server will use (PID, name, GiB), from
    NVML's list of compute processes (under ``check --mpi``: only the GPU this rank will use).
    An old tritonserver still running is the classic.

    Why: their memory is not free for the engine or the KV cache: the new server fails to load or
    gets a smaller KV cache.

    Fix: stop the process (`kill PID`; `trtdiag fix --apply --kill` does it, never for PID 1 or
    another user's process) or use another GPU (CUDA_VISIBLE_DEVICES).
    """

    inv = _fact(facts, "gpu.inventory")
    if not isinstance(inv, dict) or inv.get("nvml_error"):
        return
    recorded = str(inv.get("source", "")).startswith("recorded") or facts.from_snapshot
    seen = False
    gpus = inv.get("gpus") or []
    mine = own_rank(facts)
    if mine is not None:  # one rank of `check --mpi`: only the GPU this rank will use
        g = rank_gpu(inv, mine[1])
        gpus = [g] if g is not None else []
    for g in gpus:
        for p in g.get("procs") or []:
            pid = p.get("pid")
            if pid == os.getpid():
                continue
            seen = True
            name = p.get("name") or "unknown"
            used = p.get("used")
            ev = {"pid": pid, "name": name, "gpu": g.get("index"), "gpu name": g.get("name"),
                  "used": f"{used / GiB:.2f} GiB ({used:,} B)" if used else "not visible (another container or user)",
                  "gpu free": f"{g['free'] / GiB:.2f} GiB" if g.get("free") is not None else None}
            ev = {k: v for k, v in ev.items() if v is not None}
            title = f"PID {pid} ({name}) holds {used / GiB:.2f} GiB on GPU {g.get('index')}" if used else f"PID {pid} ({name}) uses GPU {g.get('index')}"
            msg = "This memory is not available to the engine or its KV cache."
            if "tritonserver" in name or "trtllm" in name:
                msg = "An earlier server is still running and holds this memory: the new one will load short of memory or not at all."
            fix = None
            if recorded:
                msg += " (Recorded on another machine: stop it there.)"
            elif not p.get("local"):
                msg += (" This PID is not a process of this PID namespace holding an NVIDIA device (NVML reports host PIDs):"
                        " stop it from the host or its own container.")
            elif isinstance(pid, int) and pid > 1:
                from ..fixes import kv_cache as kvfix

                fix = kvfix.kill_fix(pid, p.get("name"), used / GiB if used else None, g.get("index"))
            yield warning(title, msg, evidence=ev, fix=fix)
    if not seen and gpus:
        yield ok("No other process holds memory on " + (f"GPU {gpus[0].get('index')}, the one this rank will use" if mine else "the visible GPUs"))


@check("MEM004", area="memory", title="KV cache settings of the tensorrt_llm model are valid", kb="kv-cache-config-invalid")
def kv_settings(facts):
    """Checks kv_cache_free_gpu_mem_fraction (a number above 0 and below 1: TensorRT-LLM stops with
    "Invalid freeMemFraction, freeMemFraction (%f) must be smaller than 1.0f"),
    max_tokens_in_paged_kv_cache (a positive integer, at least one full sequence of max_seq_len
    tokens) and max_attention_window_size (a positive integer) in the tensorrt_llm model's
    config.pbtxt.

    Why: a fraction of 0 or a token cap below one sequence leaves no room for a request of full
    length; 1.0 or more is refused at load; text that is not a number stops the backend.

    Fix: set the value in config.pbtxt (the fix edits only that string): the fraction to 0.9,
    the token cap to max_batch_size × max_seq_len or leave it unset.
    """

    name, m = trtllm_model(facts)
    if m is None:
        return
    from .. import memory as mm
    from ..fixes import kv_cache as kvfix

    params = m.get("parameters") if isinstance(m.get("parameters"), dict) else {}
    cfg_path = m.get("config_path") if isinstance(m.get("config_path"), str) else None
    eng = _fact(facts, "engine.info")
    n = mm.clean_normalized(eng.get("normalized") if isinstance(eng, dict) else None)
    seq = n.get("max_seq_len") or ((n.get("max_input_len") or 0) + (n.get("max_output_len") or 0)) or None
    b = n.get("max_batch_size")
    problems = 0
    raw = _filled(params.get("kv_cache_free_gpu_mem_fraction"))
    if raw is not None:
        f = _float(raw)
        why = None
        if f is None:
            why = f"{raw!r} is not a number"
        elif f <= 0:
            why = f"{f:g} leaves no memory for the KV cache"
        elif f >= 1:
            why = f"{f:g} is not below 1.0; TensorRT-LLM refuses it (\"freeMemFraction ({f:f}) must be smaller than 1.0f\")"
        if why:
            problems += 1
            fix = kvfix.parameter_fix("kv-cache-fraction", f"set kv_cache_free_gpu_mem_fraction to {mm.DEFAULT_KV_FRACTION}", cfg_path,
                                      "kv_cache_free_gpu_mem_fraction", str(mm.DEFAULT_KV_FRACTION)) if cfg_path else None
            yield error(f"kv_cache_free_gpu_mem_fraction = {raw!r} cannot work", f"In model {name!r}: {why}. Use a value above 0 and below 1 (default {mm.DEFAULT_KV_FRACTION}).",
                        evidence={"config": cfg_path, "kv_cache_free_gpu_mem_fraction": raw}, fix=fix)
    raw = _filled(params.get("max_tokens_in_paged_kv_cache"))
    if raw is not None:
        t = _int(raw)
        why, sev = None, error
        if t is None:
            why = f"{raw!r} is not an integer"
        elif t <= 0:
            why = f"{t} tokens leave no room for the KV cache"
        elif seq and t < seq:
            why = f"{t:,} tokens is less than one full sequence of max_seq_len {seq:,}: a request of full length can never be scheduled"
        if why:
            problems += 1
            value = str(b * seq) if b and seq else None
            fix = kvfix.parameter_fix("kv-cache-max-tokens", f"set max_tokens_in_paged_kv_cache to {value} (max_batch_size {b} × max_seq_len {seq})",
                                      cfg_path, "max_tokens_in_paged_kv_cache", value) if cfg_path and value else None
            ev = {"config": cfg_path, "max_tokens_in_paged_kv_cache": raw}
            if seq:
                ev["max_seq_len"] = seq
            yield sev(f"max_tokens_in_paged_kv_cache = {raw!r} cannot work", f"In model {name!r}: {why}.", evidence=ev, fix=fix)
    raw = _filled(params.get("max_attention_window_size"))
    if raw is not None:
        w = _int(raw)
        if w is None or w <= 0:
            problems += 1
            yield error(f"max_attention_window_size = {raw!r} cannot work", f"In model {name!r}: it must be a positive integer (tokens of attention per sequence), or left unset.",
                        evidence={"config": cfg_path, "max_attention_window_size": raw})
        elif seq and w < seq:
            yield info(f"max_attention_window_size {w:,} is below max_seq_len {seq:,}",
                       "Sliding-window attention: each sequence keeps only its last max_attention_window_size tokens in the KV cache, "
                       "which saves memory but changes the output for long sequences.", evidence={"config": cfg_path, "max_attention_window_size": w, "max_seq_len": seq})
    if not problems and any(_filled(params.get(k)) is not None for k in KV_KEYS):
        yield ok("KV cache settings are valid", **{k: _filled(params.get(k)) for k in KV_KEYS if _filled(params.get(k)) is not None})
