//! `phuso_spark._kernel`: Phủ Số's kernel (crate `phuso-kernel`) for Spark's Python workers.
//!
//! Columns arrive as buffers (numpy arrays of `float64`, no copy of Arrow into Rust) and answers
//! leave as Python lists or bytes. The work runs without the GIL. The driver validates the
//! boundary file and builds [`Areas`]; each worker reads it back once from the broadcast bytes
//! ([`phuso_kernel::index_file`]) and calls it per Arrow batch.

#![forbid(unsafe_code)]

mod campaign;

use std::path::Path;

use phuso_kernel::AreaIndex;
use phuso_kernel::boundaries::{BoundaryFields, parse_boundaries};
use phuso_kernel::counts::{JoinCounts, join_counts, write_counts};
use phuso_kernel::index_file;
use pyo3::buffer::{Element, PyBuffer};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Validated areas and their join index.
#[pyclass(frozen, module = "phuso_spark._kernel")]
struct Areas {
    /// `(code, name)` per area, in the file's order.
    names: Vec<(String, String)>,
    index: AreaIndex,
}

/// The values of a one-dimensional buffer of `T` (a numpy array of the matching dtype,
/// `array('d')`, …).
fn values<T: Element + Copy>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<Vec<T>> {
    let buf = PyBuffer::<T>::get(obj).map_err(|e| {
        // numpy's name of the element type: f64 → float64, u8 → uint8, i64 → int64.
        let rust = std::any::type_name::<T>();
        let (kind, bits) = rust.split_at(1);
        let kind = match kind {
            "f" => "float",
            "u" => "uint",
            _ => "int",
        };
        PyValueError::new_err(format!("{what}: expected a {kind}{bits} buffer: {e}"))
    })?;
    buf.to_vec(py)
}

#[pymethods]
impl Areas {
    /// Parses and validates a GeoJSON FeatureCollection (`data`, bytes); `source` names it in
    /// messages, `id_property` is the property holding each area's code. Raises `ValueError`
    /// with the file, feature, field and value of every problem.
    #[staticmethod]
    fn from_geojson(
        py: Python<'_>,
        data: &[u8],
        source: &str,
        id_property: &str,
    ) -> PyResult<Self> {
        py.detach(|| {
            let features = parse_boundaries(
                Path::new(source),
                data,
                &BoundaryFields::with_code(id_property),
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
            let names = features
                .iter()
                .map(|f| (f.code.0.clone(), f.name.clone()))
                .collect();
            let index = AreaIndex::new(features.into_iter().map(|f| f.geometry).collect());
            Ok(Self { names, index })
        })
    }

    /// The areas from the bytes of [`Areas::to_bytes`] (no parsing, validation or raster build
    /// again). Raises `ValueError` when the bytes are damaged or of another format.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        py.detach(|| {
            let (names, index) = index_file::decode(data)
                .map_err(|e| PyValueError::new_err(format!("index bytes: {e}")))?;
            Ok(Self { names, index })
        })
    }

    /// The validated areas and their index as bytes: what the driver broadcasts to the workers.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| index_file::encode(&self.names, &self.index));
        PyBytes::new(py, &bytes)
    }

    /// The number of areas.
    fn __len__(&self) -> usize {
        self.names.len()
    }

    /// `(code, name)` of every area, in the file's order.
    fn names(&self) -> Vec<(String, String)> {
        self.names.clone()
    }

    /// Joins the points and counts them: a list of `len(self) + 3` counts (each area, then
    /// outside, swapped, invalid). NaN marks a missing coordinate.
    fn count(
        &self,
        py: Python<'_>,
        lon: &Bound<'_, PyAny>,
        lat: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<u64>> {
        let xs = values::<f64>(py, lon, "lon")?;
        let ys = values::<f64>(py, lat, "lat")?;
        if xs.len() != ys.len() {
            return Err(PyValueError::new_err(format!(
                "lon has {} values and lat {}",
                xs.len(),
                ys.len()
            )));
        }
        Ok(py.detach(|| join_counts(&self.index, &xs, &ys).counts.to_slots()))
    }

    /// Writes the counts file of `phuso join` from summed slots (as [`Areas::count`] gives).
    fn write_counts(&self, slots: Vec<u64>, path: &str) -> PyResult<()> {
        let counts = JoinCounts::from_slots(&slots, self.names.len()).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{} slots for {} areas; expected {}",
                slots.len(),
                self.names.len(),
                self.names.len() + 3
            ))
        })?;
        let file = std::fs::File::create(path)
            .map_err(|e| PyOSError::new_err(format!("{path}: cannot write: {e}")))?;
        write_counts(file, &self.names, &counts)
            .map_err(|e| PyOSError::new_err(format!("{path}: cannot write: {e}")))
    }
}

#[pymodule]
fn _kernel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Areas>()?;
    m.add_class::<campaign::Campaign>()?;
    m.add_function(wrap_pyfunction!(campaign::id_keys, m)?)?;
    m.add_function(wrap_pyfunction!(campaign::timestamps, m)?)?;
    m.add_function(wrap_pyfunction!(campaign::rejection_kinds, m)?)?;
    m.add("SERVICES", phuso_kernel::visit_row::SERVICES.to_vec())?;
    Ok(())
}
