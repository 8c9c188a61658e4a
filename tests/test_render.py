"""The terminal renderer: structured evidence only with -v, one line per item; the empty-report
line depends on the command."""

from __future__ import annotations

import json

from trtdiag.render import json as render_json
from trtdiag.render import terminal as render
from trtdiag.core.finding import Finding, Report, Severity

PER_RANK = [{"rank": 0, "gpu": 0, "weights_gib": 7.1, "free_gib": 78.5},
            {"rank": 1, "gpu": 1, "weights_gib": 7.1, "free_gib": 78.5}]
TABLE = "max_batch  max_seq  fits\n8          4096     yes\n16         4096     no"


def _report(command="check"):
    f = Finding("MEM001", Severity.WARNING, "KV cache is small", "Only 2.0 GiB is left for the KV cache.",
                evidence={"free_gib": 2.0, "per_rank": PER_RANK, "answers": {"max_batch": 8, "max_seq": 4096},
                          "what fits": TABLE, "engines": ["rank0.engine", "rank1.engine"]}, area="memory")
    return Report(command, [f])


def test_structured_evidence_hidden_by_default_then_one_line_per_item():
    plain = render.terminal(_report())
    assert "per_rank" not in plain and "answers" not in plain
    assert "rank=0" not in plain
    # everything else stays: plain values, lists of plain values, multi-line tables line by line
    assert "free_gib: 2.00" in plain
    assert "engines: rank0.engine, rank1.engine" in plain
    assert "        what fits:\n          max_batch  max_seq  fits\n          8          4096     yes\n" in plain
    assert max(len(ln) for ln in plain.splitlines()) < 100

    verbose = render.terminal(_report(), verbose=True).splitlines()
    i = verbose.index("        per_rank:")
    assert verbose[i + 1] == "          - rank=0, gpu=0, weights_gib=7.10, free_gib=78.50"
    assert verbose[i + 2] == "          - rank=1, gpu=1, weights_gib=7.10, free_gib=78.50"
    j = verbose.index("        answers:")
    assert verbose[j + 1:j + 3] == ["          max_batch: 8", "          max_seq: 4096"]


def test_structured_evidence_kept_whole_in_json():
    d = json.loads(render_json.json_text(_report()))
    ev = d["findings"][0]["evidence"]
    assert ev["per_rank"] == PER_RANK and ev["answers"] == {"max_batch": 8, "max_seq": 4096}


def test_empty_report_line_depends_on_the_command(tmp_path):
    """Each command says what its empty report means (the renderer prints what the report says)."""
    import subprocess
    import sys

    def out(*argv):
        return subprocess.run([sys.executable, "-m", "trtdiag", *argv], capture_output=True, text=True, timeout=120,
                              env={**__import__("os").environ, "NO_COLOR": "1"}).stdout

    log = tmp_path / "ok.log"
    log.write_text("I1201 server started\n")
    assert "No checks applied here." in out("check", "--only", "TOK")
    explain = out("explain", str(log))
    assert "No known failure in the log" in explain and "No checks applied here." not in explain
    assert "No pre-launch check applies to this command." in render.terminal(
        Report("exec", [], empty="No pre-launch check applies to this command."))


def test_exec_with_nothing_to_check_does_not_say_no_checks_applied(tmp_path):
    """A real launch of a program trtdiag knows nothing about, with only a check that does not apply."""
    from tests.conftest import run_cli

    marker = tmp_path / "ran"
    p = run_cli("exec", "--only", "TRI001", "--", "touch", str(marker))  # no model repository: TRI001 does not apply
    assert "No checks applied here." not in p.stderr
    assert p.returncode == 0 and marker.exists(), p.stderr


def test_information_shows_its_message_and_its_evidence_only_with_v():
    f = Finding("CTR003", Severity.INFO, "stack limit is 8 MiB", "Usually enough.",
                evidence={"soft limit": "8 MiB"}, area="container")
    plain = render.terminal(Report("check", [f]))
    assert "Usually enough." in plain and "soft limit" not in plain
    assert "soft limit: 8 MiB" in render.terminal(Report("check", [f]), verbose=True)


def test_plan_and_explain_information_keeps_its_evidence():
    f = Finding("PLAN", Severity.INFO, "What fits", evidence={"what fits": TABLE}, area="memory")
    for command in ("plan", "explain"):  # their reports say their information is content, not side notes
        assert "what fits:" in render.terminal(Report(command, [f], quiet_info=False))


def test_a_typo_in_only_is_a_usage_error_not_an_empty_report():
    from tests.conftest import run_cli

    p = run_cli("check", "--only", "MEM01")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "--only MEM01: no check has that id" in p.stderr and "MEM001" in p.stderr
    p = run_cli("check", "--skip", "tokeniser")
    assert p.returncode == 2 and "did you mean: tokenizer" in p.stderr
