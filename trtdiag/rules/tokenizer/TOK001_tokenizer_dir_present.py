"""TOK001: Tokenizer directory exists and holds tokenizer files."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _targets, error, ok, os


# --------------------------------------------------------------------------- TOK001
@rule("TOK001", area=AREA, title="Tokenizer directory exists and holds tokenizer files", kb="tokenizer-dir-missing")
def tokenizer_dir_present(facts):
    """What: the ``tokenizer_dir`` parameter of the preprocessing/postprocessing config.pbtxt (or
    ``--tokenizer-dir``) names an existing directory holding tokenizer files (tokenizer.json,
    tokenizer.model, tokenizer_config.json, vocab files, *.tiktoken).

    Why: model.py hands it to ``AutoTokenizer.from_pretrained``; a missing or empty directory is
    ``OSError: Can't load tokenizer for '…'`` and the model fails to load, taking the server down.

    A missing or empty tokenizer_dir of a config.pbtxt is TRI004's finding when it runs, an engine
    directory TOK002's; this check then reports only what they do not (unreadable files, the
    --tokenizer-dir option).

    Fix: point ``tokenizer_dir`` at the Hugging Face model directory (the one with
    tokenizer_config.json), e.g. ``trtdiag fix --apply --set tokenizer_dir=/models/llama-7b-hf``
    through the Triton fixes, or edit the config.pbtxt parameter.
    """
    for t in _targets(facts):
        from ...derive.tokenizer import is_placeholder

        tdir = t.get("tokenizer_dir")
        if not tdir:
            yield error(f"{_name(t)}: no tokenizer_dir parameter",
                        "model.py reads model_config['parameters']['tokenizer_dir'] and fails with KeyError without it.",
                        evidence=_ev(t, config=t.get("config_path")))
            continue
        if is_placeholder(tdir):
            # TRI001 reports every placeholder of a config.pbtxt, with the fix that fills them (it covers this)
            yield error(f"{_name(t)}: tokenizer_dir is still the template placeholder {tdir}",
                        "The config.pbtxt was copied from the template without filling tokenizer_dir; from_pretrained gets the literal text.",
                        evidence=_ev(t, config=t.get("config_path")), kb="triton-config-placeholder",
                        subject=f"placeholder:{t['config_path']}" if t.get("dir_source") == "config.pbtxt" and t.get("config_path") else None)
            continue
        d = t["dir"]
        # one finding per problem: TRI004 reports a config.pbtxt's tokenizer_dir that is missing or
        # holds no tokenizer (with the file to edit), TOK002 an engine directory given as one; both
        # cover the finding below on its subject
        if d.get("is_dir") and not d["files"] and (d.get("engines") or d.get("engine_config")):
            subject = "engine-as-tokenizer"
        elif t.get("dir_source") == "config.pbtxt" and t.get("config_path"):
            subject = f"tokenizer-dir:{t['config_path']}"
        else:
            subject = None
        cwd = (facts.get("paths.options") or {}).get("cwd", "the current directory")
        rel = "" if os.path.isabs(tdir) else f" (relative: resolved against {cwd}; tritonserver resolves it against its own working directory)"
        if not d["exists"]:
            yield error(f"{_name(t)}: tokenizer_dir {tdir} does not exist",
                        f"from_pretrained will fail with OSError: Can't load tokenizer for '{tdir}'.{rel}", evidence=_ev(t), subject=subject)
        elif not d["is_dir"]:
            yield error(f"{_name(t)}: tokenizer_dir {tdir} is a file, not a directory",
                        "from_pretrained expects the directory holding tokenizer_config.json.", evidence=_ev(t), subject=subject)
        elif not d["files"] and not (d.get("custom") or {}).get("source_exists"):
            yield error(f"{_name(t)}: {tdir} holds no tokenizer files",
                        "None of tokenizer.json, tokenizer.model, tokenizer_config.json, vocab.json/merges.txt, vocab.txt, *.tiktoken is there.",
                        evidence=_ev(t, files=(d.get("entries") or [])[:20]), subject=subject)
        else:
            yield ok(f"{_name(t)}: tokenizer files in {tdir}", files=d["files"], **_ev(t))
        for p in d.get("problems") or []:
            yield error(f"{_name(t)}: unreadable tokenizer file", p, evidence=_ev(t, problem=p))
