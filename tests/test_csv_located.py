"""A bad value in an inputs CSV is located the same way by the whole-file reader and the streamed
one: the file's line and character column as an editor shows them (a header and blank lines make
the line differ from the row), then the row and the column as the data counts them. A value that
is not finite (nan, inf, 1e999) is refused only in the columns the network reads."""
import numpy as np
import pytest

from nngraph import DataError, stream
from nngraph.compile import compile
from nngraph.io import read_inputs

from helpers import SMALL_SCORER

PLAN = None


def _plan():
    global PLAN
    if PLAN is None:
        PLAN = compile(SMALL_SCORER)
    return PLAN


def _streamed(path, rows=2):
    source = stream.open_inputs(path, _plan().input_width, _plan())
    return np.concatenate([source.read(a, b) for a, b in stream.ranges(source.rows, rows)])


READERS = {"whole file": lambda p: read_inputs(p, _plan()), "streamed": _streamed}

ROW = "1,2,3,4,5,6"


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("text, message", [
    # header, a blank line, then the third row: line 5, row 3; 'nan' starts at character 7
    ("x[0],x[1],x[2],x[3],x[4],x[5]\n" + ROW + "\n\n" + ROW + "\n1,2,3, nan,5,6\n",
     "bad.csv:5:8: row 3, column 4: 'nan' is not finite; inputs must be finite numbers"),
    ("\n" + ROW + "\n" + ROW + "\n1,2,3,4,5,-inf\n",
     "bad.csv:4:11: row 3, column 6: '-inf' is not finite; inputs must be finite numbers"),
    (ROW + "\r\n\r\n1e999,2,3,4,5,6\r\n",
     "bad.csv:3:1: row 2, column 1: '1e999' is not finite; inputs must be finite numbers"),
    # a quoted value: its commas could be inside it, so no character column, but line, row and column
    (ROW + '\n"1",2,NaN,4,5,6\n', "bad.csv:2: row 2, column 3: 'NaN' is not finite; inputs must be finite numbers"),
    ("x[0],x[1],x[2],x[3],x[4],x[5]\n\n1,2,3,4,five,6\n", "bad.csv:3:9: row 1, column 5: 'five' is not a number"),
    # digits that are not ASCII: Python's float() reads them, a CSV reader does not
    ("x[0],x[1],x[2],x[3],x[4],x[5]\n1,2,\uff13,4,5,6\n", "bad.csv:2:5: row 1, column 3: '\uff13' is not a number"),
    ("x[0],x[1],x[2],x[3],x[4],x[5]\n1,2,3,4,5,\u0666\n", "bad.csv:2:11: row 1, column 6: '\u0666' is not a number"),
], ids=["header and blank line", "leading blank line", "crlf", "quoted", "not a number", "fullwidth digit",
        "arabic-indic digit"])
def test_a_bad_value_names_line_column_row_and_column(tmp_path, reader, text, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode())
    with pytest.raises(DataError) as info:
        READERS[reader](path)
    assert str(info.value) == f"{tmp_path}/{message}"


@pytest.mark.parametrize("reader", READERS)
def test_a_non_finite_value_in_a_column_the_network_does_not_read_is_ignored(tmp_path, reader):
    names = [f"x[{i}]" for i in range(6)]
    path = tmp_path / "extra.csv"
    path.write_text(",".join(["note"] + names[::-1]) + "\n" + "nan," + ROW + "\n" + "inf," + ROW + "\n")
    assert np.array_equal(READERS[reader](path), np.array([[6, 5, 4, 3, 2, 1]] * 2, dtype=float))
    path.write_text(",".join(["note"] + names[::-1]) + "\n" + "nan," + ROW + "\n" + "inf,1,2,3,4,inf,6\n")
    with pytest.raises(DataError, match=r"extra\.csv:3:13: row 2, column 6: 'inf' is not finite"):
        READERS[reader](path)
