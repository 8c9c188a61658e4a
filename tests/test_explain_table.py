"""Triton's model-status table: a status cell cut at the column's width and continued on the next row
is matched as one text (trtdiag/logscan/matcher.py _join_next)."""

from tests.conftest import explain_text

# the row layout of triton-inference-server/common's TablePrinter (src/table_printer.cc): "| " cell " |",
# a cell longer than its share cut at that width and continued on rows whose other cells are empty
ROW = "| densenet | 1       | UNAVAILABLE: Internal: Could not get MetaData for bucket with name models due to exc |\n"
CONT = "|          |         | eption: , error message: No response body.                                              |\n"


def test_a_wrapped_status_cell_is_read_across_the_row_border():
    ranked = explain_text(ROW + CONT)
    assert ranked and ranked[0].entry_id == "triton-cloud-repository-unreachable"
    assert ranked[0].fields.get("bucket") == "models"
    assert ranked[0].fields.get("reason") == "No response body"


def test_a_row_followed_by_another_model_row_is_not_joined_into_it():
    other = "| other    | 1       | READY                                                                                   |\n"
    assert explain_text(ROW + other) == []


def test_plain_wrapped_lines_are_still_joined_with_a_space():
    from trtdiag.logscan.matcher import _join_next

    assert _join_next(b"key '/x' to", b"requested size (1 bytes)\n") == b"key '/x' to requested size (1 bytes)"
    assert _join_next(b"| m | 1 | No such f |", b"|   |   | ile or directory  |\n") == b"| m | 1 | No such file or directory"
