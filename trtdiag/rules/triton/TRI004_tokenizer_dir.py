"""TRI004: tokenizer_dir holds a tokenizer."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _judge, _parsed, _repo, _tokenizer_problem, error, ok, os, warning


@rule("TRI004", covers=("TOK001:tokenizer-dir",), area=AREA, title="tokenizer_dir holds a tokenizer", kb="tokenizer-dir-missing")
def tokenizer_dir(facts):
    """The preprocessing and postprocessing models' ``tokenizer_dir`` exists and holds tokenizer
    files (tokenizer.json, tokenizer.model, tokenizer_config.json, vocab files).

    Why: their model.py calls AutoTokenizer.from_pretrained(tokenizer_dir) when the model loads;
    a wrong path fails with "OSError: Can't load tokenizer for '…'" (or "… is not a local folder
    and is not a valid model identifier"), and the ensemble cannot load.

    Models whose reader does not use tokenizer_dir in the release the repository came from are
    left out (tensorrt_llm's C++ backend in v0.19 logs that it ignores it: per-release table,
    trtdiag/data/backend_templates.json).

    An engine directory given as tokenizer_dir is left to TOK002 when it runs (it names that
    mistake); TOK001 leaves the directories of config.pbtxt files to this check.

    Fix: set tokenizer_dir to the Hugging Face model folder the engine was converted from
    (``trtdiag fix --apply --set tokenizer_dir=DIR`` on a template).
    """
    repo = _repo(facts)
    if repo is None:
        return
    seen = 0
    for name, m in _parsed(repo):
        params = m.get("parameters") or {}
        if "tokenizer_dir" not in params or params["tokenizer_dir"] is None:
            continue
        j = _judge(facts)
        if j is not None:
            from ...derive.triton_findings import tokenizer_dir_applies

            applies, _src = tokenizer_dir_applies(repo, j, name)
            if not applies:
                continue  # the backend of this release does not read it: nothing it could fail on
        seen += 1
        path = params["tokenizer_dir"]
        pi = (m.get("paths") or {}).get("tokenizer_dir") or {}
        prob = _tokenizer_problem(pi)
        ev = {"file": m["config_path"], "tokenizer_dir": path}
        # an engine directory given as tokenizer_dir: TOK002 names that mistake (it covers this)
        subject = ("engine-as-tokenizer" if prob and prob.startswith("holds no tokenizer files")
                   and any(str(e).endswith((".engine", ".plan")) for e in pi.get("entries") or []) else f"tokenizer-dir:{m['config_path']}")
        if prob is None:
            yield ok(f"{name}: tokenizer_dir holds a tokenizer", **ev)
            continue
        if prob == "does not exist" and not os.path.isabs(path) and path.count("/") == 1 and not path.startswith("."):
            yield warning(f"{name}: tokenizer_dir {path} is a Hugging Face Hub id, not a local folder",
                          f"model.py will download the tokenizer from the Hub when the model loads; that needs network access (and a token for gated models) inside the server. "
                          f"Download it once and point tokenizer_dir at the folder.", evidence=ev, subject=subject)
            continue
        yield error(f"{name}: tokenizer_dir {path} {prob}",
                    f"Model '{name}' loads its tokenizer from {path} ({m['config_path']}), which {prob}; model.py's AutoTokenizer.from_pretrained fails and the model does not load. "
                    "Set tokenizer_dir to the Hugging Face model folder the engine was built from.", evidence=ev, subject=subject)
