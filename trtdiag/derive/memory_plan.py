"""MEM0xx: will the engine load on each rank's GPU, does its KV cache hold max_batch_size
full-length sequences, who else holds GPU memory, and do the KV cache settings of the Triton
tensorrt_llm model make sense.  The arithmetic lives in :mod:`trtdiag.memory`.

Facts read: ``engine.info`` (normalized config and per-rank engine sizes), ``gpu.inventory``,
``triton.repo`` (the tensorrt_llm model's parameters).

The memory plan every memory rule reads (derived once per Facts)."""

from __future__ import annotations

import os

from typing import Any

from ..core.errors import ProbeError
from ..core.facts import derived
from .ranks import rank_gpu  # noqa: F401  (the memory rules import it from here)


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
    from . import memory as mm

    params = (model_cfg or {}).get("parameters") or {}
    raw = {k: _filled(params.get(k)) for k in KV_KEYS}
    frac = _float(raw["kv_cache_free_gpu_mem_fraction"])
    if frac is not None and not 0 < frac < 1:
        frac = None
    tokens = _int(raw["max_tokens_in_paged_kv_cache"])
    window = _int(raw["max_attention_window_size"])
    return mm.Serving(kv_fraction=frac, max_tokens=tokens if tokens and tokens > 0 else None,
                      max_attention_window=window if window and window > 0 else None), {k: v for k, v in raw.items() if v is not None}

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
        from . import memory as mm

        n = mm.clean_normalized(eng.get("normalized"))
        model = mm.model_from_engine(n)
        if model is None or not n.get("max_batch_size"):
            return
        self.n = n
        self.checkpoint_dir = facts.opt("checkpoint_dir")
        self.engine_dir = facts.opt("engine_dir")
        self.output_dir = facts.opt("output_dir")
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
        from . import memory as mm

        if not hasattr(self, "_answers"):
            rp = self.worst
            self._answers = mm.answers(self.model, self.build, int(rp.gpu.get("free") or 0), self.serving,
                                       weights=rp.estimate["weights"] if rp.estimate["weights_source"] == "engine file" else None,
                                       cc=rp.gpu.get("cc"))
        return self._answers

    def per_rank(self) -> list[dict[str, Any]]:
        from . import memory as mm

        out = []
        for rp in self.ranks:
            d = {"rank": rp.rank, "gpu": rp.gpu.get("index"), "gpu_name": rp.gpu.get("name")}
            d.update(mm.breakdown(rp.estimate))
            out.append(d)
        return out

    def arithmetic(self) -> str:
        from . import memory as mm

        return "\n".join(f"rank {rp.rank} on GPU {rp.gpu.get('index')}: {mm.summary(rp.estimate)}" for rp in self.ranks)

    def without_others(self, rp) -> tuple[int, dict[str, Any]] | None:
        """(bytes other processes hold on the rank's GPU, the estimate if they were stopped)."""
        from . import memory as mm

        held = sum(p.get("used") or 0 for p in rp.gpu.get("procs") or [] if p.get("pid") != os.getpid())
        if not held:
            return None
        e = rp.estimate
        return held, mm.estimate(self.model, self.build, e["free_before_load"] + held, self.serving,
                                 weights=e["weights"] if e["weights_source"] == "engine file" else None)

    def others_on(self, g: dict) -> list[str]:
        return [f"PID {p.get('pid')} ({p.get('name') or 'unknown'}) {p['used'] / GiB:.2f} GiB"
                for p in g.get("procs") or [] if p.get("pid") != os.getpid() and p.get("used")]

@derived("memory_plan")
def _derive_plan(facts) -> Plan:
    return Plan(facts)


def plan_of(facts) -> Plan:
    """The memory plan of this deployment, derived once per Facts (``memory_plan``)."""
    return facts.derived("memory_plan")

