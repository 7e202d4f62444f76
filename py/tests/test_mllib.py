"""The course's mapping between MLlib's `regParam` and the crate's penalties, proven on Spark.

Notebook 05 and `train::linear` say which `regParam` makes MLlib's `LinearRegression` fit the
crate's ridge regression (`alpha * sigma_y / n`, `xray_lab::train::linear::mllib_reg_param`), and
which makes its `LogisticRegression` fit the crate's logistic regression. Here Spark fits both on
one small feature matrix, with standardization off and on, elastic net 0 and an intercept, and
the crate fits at the mapped penalty (through the wheel: the crate's own code); the coefficients
must agree to 1e-6 relative.

The matrix is built so that storing it in float32 (the crate's feature type) is exact: every
column is a permutation of the same values {0, 1/4, 1/2, 3/4, 1}, scaled by a power of two per
column. Centred values, their products and sums are then exact in float32 too, so what is
compared is the objective each library minimises, not rounding. The scales differ per column, so
standardization changes the fit (features with a larger spread get a larger penalty on their
raw weight).
"""
import os
import sys

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")
from pyspark.ml.classification import LogisticRegression  # noqa: E402
from pyspark.ml.linalg import Vectors  # noqa: E402
from pyspark.ml.regression import LinearRegression  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from xray_lab import _native  # noqa: E402

os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

ROWS, COLS = 400, 30
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def spark():
    spark = (
        SparkSession.builder.master("local[2]").appName("xray-lab mllib mapping")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("OFF")  # breeze's L-BFGS logs an ERROR when it meets tol
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def data(spark):
    rng = np.random.default_rng(7)
    base = np.repeat([0.0, 0.25, 0.5, 0.75, 1.0], ROWS // 5)
    unscaled = np.stack([rng.permutation(base) for _ in range(COLS)], axis=1)
    powers = rng.integers(-2, 3, COLS)
    x = unscaled * 2.0 ** powers
    truth = rng.normal(size=COLS)
    y = ((unscaled - 0.5) @ truth + rng.normal(size=ROWS) > 0.4).astype(np.uint32)
    assert 0.2 < y.mean() < 0.8, "both classes, neither rare"
    frame = spark.createDataFrame(
        [(Vectors.dense(row), float(label)) for row, label in zip(x, y)], ["features", "label"])
    return {"x": x, "unscaled": unscaled, "powers": powers, "y": y, "frame": frame.cache()}


def relative_gap(ours, theirs) -> float:
    """The largest difference, relative to the largest of `theirs` (at least 1)."""
    theirs = np.atleast_1d(np.asarray(theirs, dtype=float))
    gap = np.abs(np.atleast_1d(np.asarray(ours, dtype=float)) - theirs).max()
    return float(gap / max(np.abs(theirs).max(), 1.0))


def crate_ridge(x, y, alpha):
    weights, intercept = _native.fit_ridge(x.astype(np.float32).ravel().tolist(), x.shape[1],
                                           y.tolist(), alpha)
    return np.array(weights), intercept


@pytest.mark.parametrize("solver", ["normal", "l-bfgs"])
@pytest.mark.parametrize("standardization", [False, True])
def test_linear_regression_is_the_crates_ridge_at_the_mapped_penalty(data, solver,
                                                                       standardization):
    reg_param = 0.05
    mllib = LinearRegression(regParam=reg_param, elasticNetParam=0.0, fitIntercept=True,
                             standardization=standardization, solver=solver, tol=1e-12,
                             maxIter=1000).fit(data["frame"])
    y = data["y"]
    alpha = _native.ridge_alpha_of_mllib(reg_param, y.tolist(), solver)
    # The crate's mapping both ways.
    assert _native.mllib_reg_param(alpha, y.tolist(), solver) == pytest.approx(reg_param, rel=1e-12)
    if standardization:
        # MLlib penalises feature j's raw weight times its standard deviation (measured as the
        # solver measures it): ridge on the features divided by their spread. Every column is
        # an unscaled column times 2^k, so that is ridge on the unscaled columns with the
        # penalty times their (common) variance, mapped back by 2^-k: exact in float32.
        ddof = 0 if solver == "normal" else 1
        spread = data["unscaled"][:, 0].std(ddof=ddof)
        weights, intercept = crate_ridge(data["unscaled"], y, alpha * spread**2)
        weights = weights / 2.0 ** data["powers"]
    else:
        weights, intercept = crate_ridge(data["x"], y, alpha)
    theirs = mllib.coefficients.toArray()
    assert relative_gap(weights, theirs) < TOLERANCE
    assert relative_gap(intercept, mllib.intercept) < TOLERANCE


def test_the_courses_old_mapping_was_off(data):
    """`regParam = alpha / n` (the course before this fix) is another model: the gap is the
    label's spread, 2.3x on a 74% PNEUMONIA set."""
    y = data["y"]
    alpha = 40.0
    right = _native.mllib_reg_param(alpha, y.tolist(), "l-bfgs")
    assert right == pytest.approx(alpha * y.std(ddof=1) / len(y), rel=1e-12)
    assert (alpha / len(y)) / right > 2.0


@pytest.mark.parametrize("standardization", [False, True])
def test_logistic_regression_is_the_crates_at_the_mapped_penalty(data, standardization):
    reg_param = 0.02
    mllib = LogisticRegression(regParam=reg_param, elasticNetParam=0.0, fitIntercept=True,
                               standardization=standardization, tol=1e-14,
                               maxIter=2000).fit(data["frame"])
    n = len(data["y"])
    # MLlib divides by the sample standard deviation, the crate by the population one.
    penalty = reg_param * n / (n - 1) if standardization else reg_param
    weights, intercept = _native.fit_logistic(
        data["x"].astype(np.float32).ravel().tolist(), COLS, data["y"].tolist(), penalty,
        standardize=standardization, tolerance=1e-12, max_iter=2000)
    theirs = mllib.coefficients.toArray()
    assert relative_gap(weights, theirs) < TOLERANCE
    assert relative_gap(intercept, mllib.intercept) < TOLERANCE
