"""plan.evaluate, plan.predict and plan.fit read their arrays through one checker: each bad X or y
is a DataError naming the argument, the first wrong row and what is valid, the same for all."""
import numpy as np
import pytest

import nngraph
from nngraph import DataError
from nngraph.compile import compile

from helpers import EXAMPLES

EX = {p.name: p for p in EXAMPLES}
X3 = np.array([[0.0, 0.5], [1.0, 0.0], [0.5, 0.5]])


@pytest.fixture(scope="module")
def moons():
    return compile(nngraph.load(EX["moons_mlp.yaml"]), use_file=False)


@pytest.mark.parametrize("y, message", [
    ([1, 1, 7], "y row 2 holds class 7, but the network's 1 output neuron gives classes 0 to 1"),
    ([1, 1], "y has 2 rows but X has 3; give one target per row of X"),
    (["a", "b", "a"], "y row 0: 'a' is not a class number; the classes are the whole numbers 0 to 1 (the output "
                      "'out' declares no labels to name them: add labels: [...] to it)"),
    ([0.3, 0, 1], "y row 0: 0.3 is not a class; the classes are the whole numbers 0 to 1 (targets between 0 and 1 "
                  "go in a column: y.reshape(-1, 1))"),
    ([1, 0.9, 1], "y row 1: 0.9 is not a class; the classes are the whole numbers 0 to 1"),
    ([-1, 0, 0], "y row 0: -1 is not a class; the classes are the whole numbers 0 to 1"),
    ([0, np.nan, 1], "y row 1: nan is not a finite number; targets must be finite numbers"),
    (np.array([[0.5], [1.5], [0.0]]), "y row 1, column 0: 1.5 is outside 0 to 1: binary_cross_entropy needs targets"),
    (np.ones((3, 2)), "y has shape (3, 2); the network has 1 output (out 1): give one target per row, or rows of 1"),
    (3, "y is a single number; give one target per row of X"),
    ([[0], [1, 1], [0]], "y is not a rectangular array"),
])
def test_evaluate_checks_y_as_fit_does(moons, y, message):
    with pytest.raises(DataError) as evaluated:
        moons.evaluate(X3, y)
    with pytest.raises(DataError) as fitted:
        moons.fit(X3, y, epochs=1)
    assert message in str(evaluated.value)
    assert str(fitted.value) == str(evaluated.value)


@pytest.mark.parametrize("X, message", [
    (np.array([[0.0, 1.0], [np.inf, 0.0], [0.0, 0.0]]), "X row 1, column 0 (x[0]): inf is not a finite number"),
    (np.ones((3, 3)), "X has 3 values per row; the network has 2 inputs (x 2): give rows of 2"),
    (np.ones(3), "X has shape (3,); the network reads 2 inputs per sample (x 2), so give one row per sample"),
    ([[0, "a"], [0, 0], [1, 1]], "X row 0, column 1: 'a' is not a number; inputs are numbers (x[0], x[1])"),
    ([["0", "1"]] * 3, "X row 0, column 0: '0' is text, not a number (convert the array: np.asarray(X, dtype=float))"),
    (np.ones((0, 2)), "X holds no samples"),
])
def test_evaluate_checks_X_as_fit_does(moons, X, message):
    with pytest.raises(DataError) as evaluated:
        moons.evaluate(X, [0, 1, 0])
    with pytest.raises(DataError) as fitted:
        moons.fit(X, [0, 1, 0], epochs=1)
    assert message in str(evaluated.value) and str(fitted.value) == str(evaluated.value)


def test_train_on_arrays_names_the_test_arrays():
    spec = nngraph.load(EX["moons_mlp.yaml"])
    with pytest.raises(DataError, match=r"^y_test has 2 rows but X_test has 3; give one target per row of X_test$"):
        nngraph.train(spec, data=(X3, [0, 1, 0], X3, [0, 1]), epochs=1)
    with pytest.raises(DataError, match=r"^y_test row 2 holds class 2, but"):
        nngraph.train(spec, data=(X3, [0, 1, 0], X3, [0, 1, 2]), epochs=1)


def test_predict_refuses_non_finite_inputs_naming_the_row(moons):
    with pytest.raises(DataError, match=r"^X row 1, column 1 \(x\[1\]\): nan is not a finite number"):
        moons.predict(np.array([[0.0, 0.0], [0.0, np.nan]]))
    assert moons.predict(np.array([0.0, 0.5])).shape == (1,)  # one sample, as forward takes it


def test_good_arrays_still_score(moons):
    result = moons.evaluate(X3, [0, 1, 0])
    assert result["n"] == 3 and 0 <= result["accuracy"] <= 1
    assert moons.evaluate(X3, np.array([[0.0], [0.25], [1.0]]))["n"] == 3  # probabilities in a column
    assert moons.evaluate({"x": X3}, np.array([0, 1, 0], dtype=np.uint8))["n"] == 3
