//! The campaign's row checks and join for `phuso-spark report`'s workers: each row is kept or
//! left out by [`phuso_kernel::visit_row::check`] and located by the same two indexes as the
//! engine's (the leaves, then the wards whose part no neighbourhood covers), so the aggregates
//! Spark sums are those of the single-node engine.

use phuso_kernel::AreaIndex;
use phuso_kernel::hexfast;
use phuso_kernel::index_file;
use phuso_kernel::join::{OUTSIDE, assign};
use phuso_kernel::visit_row::{self, Extent, Rejection, Row};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::values;

fn le_bytes<'py, const N: usize, T>(
    py: Python<'py>,
    v: &[T],
    f: impl Fn(&T) -> [u8; N],
) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = v.iter().flat_map(f).collect();
    PyBytes::new(py, &bytes)
}

/// The campaign's join and checks (built once per Python worker from the driver's broadcast).
#[pyclass(frozen, module = "phuso_spark._kernel")]
pub struct Campaign {
    leaves: AreaIndex,
    leaf_count: usize,
    wards: Option<AreaIndex>,
    extent: Extent,
    start_day: i64,
    res: h3o::Resolution,
}

/// The four columns [`Campaign::check`] answers with, as bytes.
type FourColumns<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
);

/// The columns [`Campaign::check`] answers with, before they become bytes.
struct Checked {
    verdict: Vec<u8>,
    area: Vec<i32>,
    day: Vec<i64>,
    cell: Vec<u64>,
}

#[pymethods]
impl Campaign {
    /// From the bytes of `leaves.idx` and `wards.idx` (`None` when absent) written by `phuso
    /// campaign-index`, the wards' box `(min_lon, min_lat, max_lon, max_lat)`, the campaign's
    /// first day (days since 1970-01-01) and the H3 resolution.
    #[new]
    #[pyo3(signature = (leaves, wards, extent, start_day, hex_resolution))]
    fn new(
        py: Python<'_>,
        leaves: &[u8],
        wards: Option<&[u8]>,
        extent: (f64, f64, f64, f64),
        start_day: i64,
        hex_resolution: u8,
    ) -> PyResult<Self> {
        let res = h3o::Resolution::try_from(hex_resolution)
            .map_err(|e| PyValueError::new_err(format!("hex_resolution {hex_resolution}: {e}")))?;
        py.detach(|| {
            let (names, leaves) = index_file::decode(leaves)
                .map_err(|e| PyValueError::new_err(format!("leaves.idx: {e}")))?;
            let wards = wards
                .map(|w| {
                    index_file::decode(w)
                        .map(|(_, i)| i)
                        .map_err(|e| PyValueError::new_err(format!("wards.idx: {e}")))
                })
                .transpose()?;
            Ok(Self {
                leaves,
                leaf_count: names.len(),
                wards,
                extent: Extent {
                    min_lon: extent.0,
                    min_lat: extent.1,
                    max_lon: extent.2,
                    max_lat: extent.3,
                },
                start_day,
                res,
            })
        })
    }

    /// Checks and locates a batch of rows (buffers of one length: `lon`, `lat` float64 with NaN
    /// for missing; `team_known`, `ts_valid`, `household_valid`, `visit_valid` uint8; `ts`
    /// int64 wall-clock milliseconds in Asia/Ho_Chi_Minh; `service` int8, -1 for unknown;
    /// `household`, `visit` uint64 keys). Returns four bytes objects, one value per row:
    /// the verdict (uint8: 0 kept, else the rejection's code), the receiving area (int32: a
    /// leaf's position, `len(leaves) + k` for ward k, -1 in none or left out), the campaign day
    /// (int64) and the H3 cell (uint64, 0 for none).
    #[expect(clippy::too_many_arguments, reason = "one per column")]
    #[pyo3(signature = (lon, lat, team_known, ts, ts_valid, service, household, household_valid, visit, visit_valid))]
    fn check<'py>(
        &self,
        py: Python<'py>,
        lon: &Bound<'py, PyAny>,
        lat: &Bound<'py, PyAny>,
        team_known: &Bound<'py, PyAny>,
        ts: &Bound<'py, PyAny>,
        ts_valid: &Bound<'py, PyAny>,
        service: &Bound<'py, PyAny>,
        household: &Bound<'py, PyAny>,
        household_valid: &Bound<'py, PyAny>,
        visit: &Bound<'py, PyAny>,
        visit_valid: &Bound<'py, PyAny>,
    ) -> PyResult<FourColumns<'py>> {
        let xs = values::<f64>(py, lon, "lon")?;
        let ys = values::<f64>(py, lat, "lat")?;
        let team = values::<u8>(py, team_known, "team_known")?;
        let t = values::<i64>(py, ts, "ts")?;
        let tv = values::<u8>(py, ts_valid, "ts_valid")?;
        let s = values::<i8>(py, service, "service")?;
        let h = values::<u64>(py, household, "household")?;
        let hv = values::<u8>(py, household_valid, "household_valid")?;
        let v = values::<u64>(py, visit, "visit")?;
        let vv = values::<u8>(py, visit_valid, "visit_valid")?;
        let n = xs.len();
        for (name, len) in [
            ("lat", ys.len()),
            ("team_known", team.len()),
            ("ts", t.len()),
            ("ts_valid", tv.len()),
            ("service", s.len()),
            ("household", h.len()),
            ("household_valid", hv.len()),
            ("visit", v.len()),
            ("visit_valid", vv.len()),
        ] {
            if len != n {
                return Err(PyValueError::new_err(format!(
                    "lon has {n} values and {name} {len}"
                )));
            }
        }
        let out = py.detach(|| {
            let verdict: Vec<u8> = (0..n)
                .map(|i| {
                    let row = Row {
                        lon: xs[i],
                        lat: ys[i],
                        team_known: team[i] != 0,
                        ts_local_ms: (tv[i] != 0).then_some(t[i]),
                        service: u8::try_from(s[i]).ok(),
                        household: (hv[i] != 0).then_some(h[i]),
                        visit_id: (vv[i] != 0).then_some(v[i]),
                    };
                    match visit_row::check(&row, &self.extent) {
                        Ok(()) => 0,
                        Err(r) => r as u8,
                    }
                })
                .collect();
            self.locate(&xs, &ys, &t, verdict)
        });
        Ok((
            PyBytes::new(py, &out.verdict),
            le_bytes(py, &out.area, |x| x.to_le_bytes()),
            le_bytes(py, &out.day, |x| x.to_le_bytes()),
            le_bytes(py, &out.cell, |x| x.to_le_bytes()),
        ))
    }
}

impl Campaign {
    /// The area, day and cell of the kept rows (`verdict` 0).
    fn locate(&self, xs: &[f64], ys: &[f64], ts: &[i64], verdict: Vec<u8>) -> Checked {
        let kept: Vec<usize> = (0..xs.len()).filter(|&i| verdict[i] == 0).collect();
        let kx: Vec<f64> = kept.iter().map(|&i| xs[i]).collect();
        let ky: Vec<f64> = kept.iter().map(|&i| ys[i]).collect();
        let mut at: Vec<i32> = assign(&self.leaves, &kx, &ky)
            .into_iter()
            .map(|l| if l == OUTSIDE { -1 } else { l as i32 })
            .collect();
        if let Some(wards) = &self.wards {
            let missing: Vec<usize> = (0..at.len()).filter(|&k| at[k] < 0).collect();
            let mx: Vec<f64> = missing.iter().map(|&k| kx[k]).collect();
            let my: Vec<f64> = missing.iter().map(|&k| ky[k]).collect();
            for (j, w) in assign(wards, &mx, &my).into_iter().enumerate() {
                if w != OUTSIDE {
                    at[missing[j]] = (self.leaf_count + w as usize) as i32;
                }
            }
        }
        let cells = hexfast::cells(&kx, &ky, self.res);
        let mut area = vec![-1; xs.len()];
        let mut day = vec![0; xs.len()];
        let mut cell = vec![0; xs.len()];
        for (k, &i) in kept.iter().enumerate() {
            area[i] = at[k];
            day[i] = visit_row::day_of(ts[i], self.start_day);
            cell[i] = cells[k];
        }
        Checked {
            verdict,
            area,
            day,
            cell,
        }
    }
}

/// The keys of text ids (`None` for null): `(uint64 keys, uint8 valid)` as bytes.
#[pyfunction]
pub fn id_keys<'py>(
    py: Python<'py>,
    texts: Vec<Option<String>>,
) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
    let keys: Vec<u64> = texts
        .iter()
        .map(|t| t.as_deref().map_or(0, visit_row::id_key))
        .collect();
    let valid: Vec<u8> = texts.iter().map(|t| u8::from(t.is_some())).collect();
    (
        le_bytes(py, &keys, |x| x.to_le_bytes()),
        PyBytes::new(py, &valid),
    )
}

/// Text timestamps as Asia/Ho_Chi_Minh wall-clock milliseconds (`None` or unreadable: not
/// valid): `(int64 values, uint8 valid)` as bytes.
#[pyfunction]
pub fn timestamps<'py>(
    py: Python<'py>,
    texts: Vec<Option<String>>,
) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
    let parsed: Vec<Option<i64>> = texts
        .iter()
        .map(|t| t.as_deref().and_then(visit_row::parse_local_ts))
        .collect();
    let values: Vec<i64> = parsed.iter().map(|p| p.unwrap_or(0)).collect();
    let valid: Vec<u8> = parsed.iter().map(|p| u8::from(p.is_some())).collect();
    (
        le_bytes(py, &values, |x| x.to_le_bytes()),
        PyBytes::new(py, &valid),
    )
}

/// The kinds rows are left out under, by code (`Rejection as u8`).
#[pyfunction]
pub fn rejection_kinds() -> Vec<(u8, &'static str)> {
    Rejection::ALL
        .iter()
        .map(|r| (*r as u8, r.kind()))
        .collect()
}
