//! `xray_lab._native`: the crate's decoder for Python, one batch of files per call (and, for
//! checking the course's MLlib mapping against Spark, the crate's two linear fits).
//!
//! The Python package (`py/python/xray_lab`) wraps these two functions: it turns an Arrow binary
//! array, a list of bytes or a list of paths into the arguments here, and the dictionary that
//! comes back into an Arrow table, numpy arrays or a Spark batch. Every row is computed by the
//! crate's own functions ([`xray_lab::decode::decode_bytes`], [`xray_lab::decode::scale_pixels`],
//! [`xray_lab::decode::Intensity`], [`xray_lab::facts::facts_of_bytes`]), so a row equals what
//! `xray-lab features` gives for the same file and settings, bit for bit.
//!
//! What is computed: `pixels = false` reads the headers only (no decoding); `features = false`
//! decodes (for the intensity statistics) but returns no feature values.
//!
//! Threads: `threads = 1` decodes on the calling thread, with no thread pool at all (what a Spark
//! Python worker wants: Spark runs one worker per core already, and a pool started before a fork
//! would not survive it); more builds a pool for the call and drops it at the end. The GIL is
//! released while decoding.

use std::borrow::Cow;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rayon::prelude::*;
use xray_lab::columns;
use xray_lab::decode::{self, DecodeOptions, Intensity, RejectReason};
use xray_lab::facts::{self, ImageFacts};

mod arrow;

/// What one file gave: its header facts (when the header could be read), its pixels and their
/// statistics (when it decoded), or why not.
struct Row {
    facts: Option<ImageFacts>,
    pixels: Option<(Vec<u8>, Intensity)>,
    error: Option<String>,
    /// The file could not be read at all (missing, permissions, a mount gone): an I/O failure
    /// a retry may cure, unlike a file that reads but does not decode.
    unreadable: bool,
}

fn row_of(
    bytes: Result<Cow<'_, [u8]>, RejectReason>,
    options: &DecodeOptions,
    pixels: bool,
) -> Row {
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(reason) => {
            return Row {
                facts: None,
                pixels: None,
                error: Some(reason.to_string()),
                unreadable: true,
            }
        }
    };
    let facts = facts::facts_of_bytes(&bytes);
    if !pixels {
        return match facts {
            Ok(facts) => Row {
                facts: Some(facts),
                pixels: None,
                error: None,
                unreadable: false,
            },
            Err(reason) => Row {
                facts: None,
                pixels: None,
                error: Some(reason.to_string()),
                unreadable: false,
            },
        };
    }
    let decoded = decode::decode_bytes(&bytes, options).map(|image| {
        let pixels = image.into_raw();
        let stats = Intensity::of_pixels(&pixels);
        (pixels, stats)
    });
    // The header's reason first: it is the one `xray-lab facts` and `scan` show for the file.
    let error = match (&facts, &decoded) {
        (Err(reason), _) | (Ok(_), Err(reason)) => Some(reason.to_string()),
        _ => None,
    };
    Row {
        facts: facts.ok(),
        pixels: decoded.ok(),
        error,
        unreadable: false,
    }
}

fn options(size: u32, exact: bool, max_pixels: u64) -> PyResult<DecodeOptions> {
    let options = DecodeOptions::new()
        .size(size)
        .exact(exact)
        .max_pixels(max_pixels)
        .cache(false);
    options
        .check()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(options)
}

/// Runs `row` for `0..n`, on the calling thread when `threads` is 1, else in a pool of that many
/// threads made for this call (0: one per core).
fn rows(n: usize, threads: usize, row: impl Fn(usize) -> Row + Sync + Send) -> PyResult<Vec<Row>> {
    if threads == 1 {
        return Ok((0..n).map(row).collect());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| PyValueError::new_err(format!("cannot start {threads} threads: {e}")))?;
    Ok(pool.install(|| (0..n).into_par_iter().map(row).collect()))
}

/// The batch as Python objects: `features` (bytes of n x size x size little-endian float32,
/// zeros on rows with an error; empty unless `features`), and a list per column.
fn to_python<'py>(
    py: Python<'py>,
    rows: Vec<Row>,
    size: u32,
    features: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let p = if features { (size * size) as usize } else { 0 };
    let features = PyBytes::new_with(py, rows.len() * p * 4, |out| {
        for (row, chunk) in rows.iter().zip(out.chunks_exact_mut((p * 4).max(1))) {
            if let Some((pixels, _)) = &row.pixels {
                let mut values = vec![0f32; p];
                decode::scale_pixels(pixels, &mut values);
                for (to, v) in chunk.chunks_exact_mut(4).zip(&values) {
                    to.copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        Ok(())
    })?;
    let out = PyDict::new(py);
    out.set_item(columns::FEATURES, features)?;
    let fact = |r: &Row| r.facts.clone();
    let stats = |r: &Row| r.pixels.as_ref().map(|(_, stats)| stats.to_owned());
    set_column(&out, &rows, "width", |r| fact(r).map(|f| f.width))?;
    set_column(&out, &rows, "height", |r| fact(r).map(|f| f.height))?;
    set_column(&out, &rows, "mode", |r| fact(r).map(|f| f.mode))?;
    set_column(&out, &rows, "bit_depth", |r| fact(r).map(|f| f.bit_depth))?;
    set_column(&out, &rows, "format", |r| fact(r).map(|f| f.format))?;
    set_column(&out, &rows, "progressive", |r| {
        fact(r).and_then(|f| f.progressive)
    })?;
    set_column(&out, &rows, "mean", |r| stats(r).map(|s| s.mean))?;
    set_column(&out, &rows, "std", |r| stats(r).map(|s| s.std))?;
    set_column(&out, &rows, "min", |r| stats(r).map(|s| s.min))?;
    set_column(&out, &rows, "max", |r| stats(r).map(|s| s.max))?;
    set_column(&out, &rows, columns::ERROR, |r| r.error.clone())?;
    // Not a column of the table: what `on_error` tells I/O failures from undecodable files by.
    out.set_item(
        "unreadable",
        rows.iter().map(|r| r.unreadable).collect::<Vec<_>>(),
    )?;
    Ok(out)
}

/// One column of the batch: `value` of every row, as a Python list (None where it is `None`).
fn set_column<'py, T: IntoPyObject<'py>>(
    out: &Bound<'py, PyDict>,
    rows: &[Row],
    name: &str,
    value: impl Fn(&Row) -> Option<T>,
) -> PyResult<()> {
    out.set_item(name, rows.iter().map(value).collect::<Vec<_>>())
}

/// Decodes the files of an Arrow binary array (binary, large binary or binary view), read in
/// place: any object that exports Arrow's C data interface (`__arrow_c_array__`, as a
/// `pyarrow.Array` does). A null slot decodes as empty contents (an error row; the Python side
/// names it).
#[pyfunction]
#[pyo3(signature = (contents, *, size = 150, exact = false, max_pixels = 100_000_000, threads = 1, pixels = true, features = true))]
fn decode_contents<'py>(
    py: Python<'py>,
    contents: &Bound<'py, PyAny>,
    size: u32,
    exact: bool,
    max_pixels: u64,
    threads: usize,
    pixels: bool,
    features: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let options = options(size, exact, max_pixels)?;
    let contents = arrow::Contents::import(contents)?;
    let rows = py.detach(|| {
        rows(contents.len(), threads, |i| {
            row_of(Ok(Cow::Borrowed(contents.get(i))), &options, pixels)
        })
    })?;
    to_python(py, rows, size, pixels && features)
}

/// Reads and decodes files by path.
#[pyfunction]
#[pyo3(signature = (paths, *, size = 150, exact = false, max_pixels = 100_000_000, threads = 1, pixels = true, features = true))]
fn decode_paths<'py>(
    py: Python<'py>,
    paths: Vec<String>,
    size: u32,
    exact: bool,
    max_pixels: u64,
    threads: usize,
    pixels: bool,
    features: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let options = options(size, exact, max_pixels)?;
    let rows = py.detach(|| {
        rows(paths.len(), threads, |i| {
            let bytes = std::fs::read(&paths[i])
                .map(Cow::Owned)
                .map_err(|e| RejectReason::Unreadable(e.to_string()));
            row_of(bytes, &options, pixels)
        })
    })?;
    to_python(py, rows, size, pixels && features)
}

/// The patient of each file name, by the crate's rule ([`xray_lab::load::patient_id`]).
#[pyfunction]
fn patient_ids(names: Vec<String>) -> Vec<Option<String>> {
    names
        .iter()
        .map(|n| xray_lab::load::patient_id(n))
        .collect()
}

/// The settings a row depends on, as the crate's feature cache keys them (`150px-dct`).
#[pyfunction]
#[pyo3(signature = (*, size = 150, exact = false))]
fn settings_key(size: u32, exact: bool) -> PyResult<String> {
    Ok(options(size, exact, xray_lab::decode::DEFAULT_MAX_PIXELS)?.key())
}

/// The crate's training rows from Python: `x` row-major (`len(y)` rows of `cols` values).
fn samples(x: Vec<f32>, cols: usize, y: Vec<u32>) -> PyResult<xray_lab::train::Samples> {
    xray_lab::train::Samples::new(x, cols, y).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The crate's ridge regression (`‖y - Xw - b‖² + α‖w‖²`, what `xray-lab train` fits), as
/// `(weights, intercept)`: for checking its penalty against MLlib's (`py/tests/test_mllib.py`).
#[pyfunction]
fn fit_ridge(x: Vec<f32>, cols: usize, y: Vec<u32>, alpha: f64) -> PyResult<(Vec<f64>, f64)> {
    let fitted = xray_lab::train::linear::RidgeRegression::fit(&samples(x, cols, y)?, alpha)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((fitted.model.weights, fitted.model.intercept))
}

/// The crate's logistic regression (mean log-loss + `λ/2 ‖w‖²`, no class weights), as
/// `(weights, intercept)` in the features' own units.
#[pyfunction]
#[pyo3(signature = (x, cols, y, penalty, *, standardize = false, tolerance = 1e-10, max_iter = 1000))]
fn fit_logistic(
    x: Vec<f32>,
    cols: usize,
    y: Vec<u32>,
    penalty: f64,
    standardize: bool,
    tolerance: f64,
    max_iter: u64,
) -> PyResult<(Vec<f64>, f64)> {
    use xray_lab::train::linear::{LogisticParameters, LogisticRegression};
    let parameters = LogisticParameters::default()
        .with_penalty(penalty)
        .with_balanced(false)
        .with_standardize(standardize)
        .with_max_iter(max_iter)
        .with_tolerance(tolerance);
    let fitted = LogisticRegression::fit(&samples(x, cols, y)?, &parameters)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((fitted.model.weights, fitted.model.intercept))
}

fn solver(name: &str) -> PyResult<xray_lab::train::linear::MllibSolver> {
    use xray_lab::train::linear::MllibSolver;
    match name {
        "normal" => Ok(MllibSolver::NormalEquations),
        "l-bfgs" => Ok(MllibSolver::Lbfgs),
        other => Err(PyValueError::new_err(format!(
            "solver {other:?}: expected \"normal\" or \"l-bfgs\""
        ))),
    }
}

/// MLlib's `regParam` for the crate's ridge penalty `alpha`, for Spark's `solver`
/// (`"normal"` or `"l-bfgs"`): [`xray_lab::train::linear::mllib_reg_param`].
#[pyfunction]
fn mllib_reg_param(alpha: f64, y: Vec<u32>, solver_name: &str) -> PyResult<f64> {
    Ok(xray_lab::train::linear::mllib_reg_param(
        alpha,
        &y,
        solver(solver_name)?,
    ))
}

/// The crate's ridge penalty for MLlib's `regParam`:
/// [`xray_lab::train::linear::ridge_alpha_of_mllib`].
#[pyfunction]
fn ridge_alpha_of_mllib(reg_param: f64, y: Vec<u32>, solver_name: &str) -> PyResult<f64> {
    Ok(xray_lab::train::linear::ridge_alpha_of_mllib(
        reg_param,
        &y,
        solver(solver_name)?,
    ))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_contents, m)?)?;
    m.add_function(wrap_pyfunction!(decode_paths, m)?)?;
    m.add_function(wrap_pyfunction!(settings_key, m)?)?;
    m.add_function(wrap_pyfunction!(patient_ids, m)?)?;
    m.add_function(wrap_pyfunction!(fit_ridge, m)?)?;
    m.add_function(wrap_pyfunction!(fit_logistic, m)?)?;
    m.add_function(wrap_pyfunction!(mllib_reg_param, m)?)?;
    m.add_function(wrap_pyfunction!(ridge_alpha_of_mllib, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The crate's defaults and column names, so that the Python package spells none of them
    // twice (xray_lab/__init__.py reads these).
    m.add("DEFAULT_SIZE", decode::DEFAULT_SIZE)?;
    m.add("DEFAULT_MAX_PIXELS", decode::DEFAULT_MAX_PIXELS)?;
    m.add(
        "DEFAULT_EXTENSIONS",
        xray_lab::load::DEFAULT_EXTENSIONS.to_vec(),
    )?;
    let names = PyDict::new(m.py());
    for (name, value) in [
        ("PATH", columns::PATH),
        ("SPLIT", columns::SPLIT),
        ("CLASS", columns::CLASS),
        ("LABEL", columns::LABEL),
        ("PATIENT", columns::PATIENT),
        ("SUBSET", columns::SUBSET),
        ("FEATURES", columns::FEATURES),
        ("ERROR", columns::ERROR),
    ] {
        names.set_item(name, value)?;
    }
    m.add("COLUMNS", names)?;
    m.add("HEADER_COLUMNS", columns::HEADER.to_vec())?;
    m.add("INTENSITY_COLUMNS", columns::INTENSITY.to_vec())?;
    Ok(())
}
