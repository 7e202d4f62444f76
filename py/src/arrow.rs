//! An Arrow binary array from Python, read in place through Arrow's C data interface (the
//! PyCapsule protocol, `__arrow_c_array__`, which pyarrow 14 and later arrays speak).
//!
//! Why not the buffer protocol: it is part of Python's stable ABI only from 3.11, and the wheel
//! is built for the stable ABI of 3.9 (Databricks Runtime 14's Python 3.10, EMR 7's 3.9); the
//! capsule functions are stable from 3.2 on. The C structs and their import are polars-arrow's
//! (already in the crate's build, through polars): nothing is written by hand here but the hand
//! over between the two.

use polars_arrow::array::{Array, BinaryArray, BinaryViewArray};
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::ffi;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// The contents of a batch of files: one binary value per file.
pub(crate) enum Contents {
    Binary(BinaryArray<i32>),
    LargeBinary(BinaryArray<i64>),
    BinaryView(BinaryViewArray),
}

impl Contents {
    /// Takes over the array that `object` exports (without copying its buffers: they stay the
    /// exporter's, released when the returned value is dropped).
    pub(crate) fn import(object: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !object.hasattr("__arrow_c_array__")? {
            return Err(PyTypeError::new_err(format!(
                "expected an Arrow binary array (an object with __arrow_c_array__, such as a \
                 pyarrow.Array), not {}",
                object.get_type().name()?
            )));
        }
        let (schema, array): (Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) =
            object.call_method0("__arrow_c_array__")?.extract()?;
        let schema = schema.pointer_checked(Some(c"arrow_schema"))?;
        let array = array.pointer_checked(Some(c"arrow_array"))?;
        let invalid = |e: polars_error::PolarsError| {
            PyValueError::new_err(format!("not a valid Arrow array: {e}"))
        };
        // SAFETY: the capsule named "arrow_schema" holds a valid `ArrowSchema` (the protocol's
        // contract), alive while the capsule is, and it is only read here.
        let field = unsafe { ffi::import_field_from_c(schema.cast::<ffi::ArrowSchema>().as_ref()) }
            .map_err(invalid)?;
        // SAFETY: the capsule named "arrow_array" holds a valid `ArrowArray`. It is moved out as
        // the protocol asks a consumer to: the struct is copied and the capsule's own is left
        // released (an empty struct, whose `release` is null), so that the capsule's destructor
        // does not release the buffers that the imported array now owns.
        let moved = unsafe {
            std::ptr::replace(
                array.cast::<ffi::ArrowArray>().as_ptr(),
                ffi::ArrowArray::empty(),
            )
        };
        // SAFETY: `moved` is a valid array of type `field.dtype` (the same export).
        let array =
            unsafe { ffi::import_array_from_c(moved, field.dtype().clone()) }.map_err(invalid)?;
        let any = array.as_any();
        let contents = match field.dtype() {
            ArrowDataType::Binary => any.downcast_ref().cloned().map(Contents::Binary),
            ArrowDataType::LargeBinary => any.downcast_ref().cloned().map(Contents::LargeBinary),
            ArrowDataType::BinaryView => any.downcast_ref().cloned().map(Contents::BinaryView),
            _ => None,
        };
        contents.ok_or_else(|| {
            PyTypeError::new_err(format!(
                "expected an Arrow binary array of file contents, not {:?}",
                field.dtype()
            ))
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Contents::Binary(a) => a.len(),
            Contents::LargeBinary(a) => a.len(),
            Contents::BinaryView(a) => a.len(),
        }
    }

    /// The bytes of file `i` (empty where the array holds a null).
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        match self {
            Contents::Binary(a) if !a.is_null(i) => a.value(i),
            Contents::LargeBinary(a) if !a.is_null(i) => a.value(i),
            Contents::BinaryView(a) if !a.is_null(i) => a.value(i),
            _ => &[],
        }
    }
}
