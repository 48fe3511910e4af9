"""plan.forward does not look at every input value (that would cost 2-4% of the MNIST MLP's forward
at 1,000-10,000 rows: benchmarks/finite_check.py); ``check=True`` refuses NaN and infinity, naming
the row, the column and the input, as the CLI does for files."""
import numpy as np
import pytest

import nngraph
from nngraph import DataError
from helpers import spec_text

SPEC = spec_text("""
    nngraph: 1
    name: n
    nodes:
      - {name: a, role: input, size: 2, labels: [sleep, study]}
      - {name: b, role: input, size: 3}
      - {name: y, role: output, size: 2}
    edges:
      - {from: a, to: y, weights: [[1, 0], [0, 1]]}
      - {from: b, to: y, weights: [[1, 1], [1, 1], [1, 1]]}
""")


@pytest.fixture(scope="module")
def plan():
    return nngraph.compile.compile(SPEC)


def test_without_check_a_nan_input_gives_nan_outputs(plan):
    x = np.ones((3, 5), dtype=np.float32)
    x[1, 3] = np.nan
    y = plan.forward(x)
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()


@pytest.mark.parametrize("value, shown", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_check_refuses_the_first_non_finite_value_by_row_column_and_input(plan, value, shown):
    x = np.ones((4, 5), dtype=np.float32)
    x[2, 3] = value
    x[3, 0] = value
    with pytest.raises(DataError) as info:
        plan.forward(x, check=True)
    assert str(info.value) == (f"inputs row 2, column 3 (b[1]): {shown} is not a finite number (2 values in 2 rows "
                               "are not finite); inputs must be finite numbers")


def test_check_names_labels_and_works_on_dicts_and_float64(plan):
    with pytest.raises(DataError, match=r"^inputs row 0, column 1 \(study\): nan is not a finite number; inputs must"):
        plan.forward({"sleep": [1], "study": [float("nan")], "b": [[1, 2, 3]]}, check=True)
    p64 = nngraph.compile.compile(SPEC, dtype=np.float64)
    with pytest.raises(DataError, match=r"^inputs row 0, column 4 \(b\[2\]\): inf is not"):
        p64.forward(np.array([[1, 2, 3, 4, np.inf]]), check=True, as_dict=True)


def test_finite_inputs_give_the_same_answer_checked_or_not(plan):
    x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    assert np.array_equal(plan.forward(x, check=True), plan.forward(x))
    assert np.array_equal(plan.bind()(x[:1]), plan.forward(x[:1]))  # the lean path is unchanged
