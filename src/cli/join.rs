//! `phuso join`: counts of points per area for any polygons and any table of points.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use phuso::ingest::boundaries::{BoundaryFields, parse_boundaries};
use phuso::ingest::table::Table;
use phuso::join::{OUTSIDE, assign, in_range};
use phuso::{AreaIndex, IngestError};
use phuso_kernel::counts::{Joined, join_counts, write_counts};
use phuso_kernel::index_file;
use sha2::{Digest, Sha256};

#[expect(clippy::too_many_arguments, reason = "one per flag of the command")]
pub(super) fn join_command(
    areas: &Path,
    points: &Path,
    id_property: &str,
    lon: &str,
    lat: &str,
    counts_out: &Path,
    assignments_out: Option<&Path>,
    cache: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    // The points file is decoded on another thread while the areas are read and indexed.
    let (indexed, columns) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let table = Table::read_columns(points, "one row per point", &[lon, lat])?;
            let mut issues = Vec::new();
            let xs = table.f64s(lon, "longitude in degrees (WGS84)", &mut issues)?;
            let ys = table.f64s(lat, "latitude in degrees (WGS84)", &mut issues)?;
            let mut problems: Vec<(usize, String)> = table
                .malformed
                .iter()
                .map(|(row, what)| (row + 1, format!("row {}: {what}", row + 1)))
                .collect();
            problems.extend(
                issues
                    .iter()
                    .filter(|i| table.malformed_at(i.row - 1).is_none())
                    .map(|i| (i.row, i.to_string())),
            );
            problems.sort();
            Ok::<_, IngestError>((xs, ys, problems, t0.elapsed()))
        });
        let indexed = indexed_areas(areas, id_property, cache)
            .map(|(names, index, cached)| (names, index, cached, t0.elapsed()));
        (indexed, reader.join().expect("points reader panicked"))
    });
    let (names, index, cached, t_areas) = indexed?;
    let (xs, ys, problems, t_points) = columns?;
    let t_read = t0.elapsed();
    let Joined {
        counts,
        swapped_rows: swapped,
        assigned,
    } = join_counts(&index, &xs, &ys);
    let t_join = t0.elapsed();
    for (_, p) in problems.iter().take(10) {
        eprintln!("warning: {}: {p} (counted as _invalid)", points.display());
    }
    let out_of_range = (0..xs.len()).filter(|&i| {
        xs[i].is_finite()
            && ys[i].is_finite()
            && !in_range(xs[i], ys[i])
            && swapped.binary_search(&i).is_err()
    });
    for i in out_of_range.take(10) {
        eprintln!(
            "warning: {}: row {}: columns `{lon}`,`{lat}`: values {}, {}; expected lon in -180..=180 and lat in -90..=90 (counted as _invalid)",
            points.display(),
            i + 1,
            xs[i],
            ys[i]
        );
    }
    for &i in swapped.iter().take(10) {
        eprintln!(
            "warning: {}: row {}: columns `{lon}`,`{lat}`: values {}, {}; in no area, but inside one with lon and lat swapped (counted as _swapped)",
            points.display(),
            i + 1,
            xs[i],
            ys[i]
        );
    }
    let write_counts = || -> anyhow::Result<()> {
        write_counts(File::create(counts_out)?, &names, &counts)?;
        Ok(())
    };
    write_counts().with_context(|| format!("{}: cannot write", counts_out.display()))?;
    if let Some(path) = assignments_out {
        let assigned = assigned.unwrap_or_else(|| assign(&index, &xs, &ys));
        let mut w = std::io::BufWriter::new(
            File::create(path).with_context(|| format!("{}: cannot write", path.display()))?,
        );
        writeln!(w, "row,code")?;
        for (i, (&a, (&x, &y))) in assigned.iter().zip(xs.iter().zip(&ys)).enumerate() {
            let code = if a == OUTSIDE || !in_range(x, y) {
                ""
            } else {
                names[a as usize].0.as_str()
            };
            writeln!(w, "{},{code}", i + 1)?;
        }
        w.flush()?;
    }
    let n = xs.len();
    let rate = n as f64 / (t_join - t_read).as_secs_f64().max(1e-9);
    eprintln!(
        "joined {n} points to {} areas: {} inside, {} outside, {} swapped, {} invalid; areas read and indexed {:.2}s{}, points read {:.2}s (in parallel), join {:.2}s ({:.1}M points/s), total {:.2}s",
        names.len(),
        counts.per_area.iter().sum::<u64>(),
        counts.outside,
        counts.swapped,
        counts.invalid,
        t_areas.as_secs_f64(),
        if cached {
            " (index from the cache)"
        } else {
            ""
        },
        t_points.as_secs_f64(),
        (t_join - t_read).as_secs_f64(),
        rate / 1e6,
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The areas of `path` (codes in `id_property`) and their index, with whether the index came from
/// the cache. With a cache directory, the index is kept there under the SHA-256 of the file's
/// bytes and the id property ([`index_file`]), so the next join of the same file skips parsing,
/// validation and the raster; a damaged cache file is said, replaced, and never trusted, and a
/// cache that cannot be written only costs a warning.
fn indexed_areas(
    path: &Path,
    id_property: &str,
    cache: Option<&Path>,
) -> Result<(index_file::Names, AreaIndex, bool), IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    let kept = cache.map(|dir| {
        let mut h = Sha256::new();
        h.update(b"phuso join index\0");
        h.update(id_property.as_bytes());
        h.update(b"\0");
        h.update(&bytes);
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        dir.join(format!("join-index-{hex}.bin"))
    });
    if let Some(file) = &kept
        && let Ok(data) = std::fs::read(file)
    {
        match index_file::decode(&data) {
            Ok((names, index)) => return Ok((names, index, true)),
            Err(e) => eprintln!(
                "warning: {}: {e}; the index is built again from {}",
                file.display(),
                path.display()
            ),
        }
    }
    let features = parse_boundaries(path, &bytes, &BoundaryFields::with_code(id_property))?;
    let names: Vec<(String, String)> = features
        .iter()
        .map(|f| (f.code.0.clone(), f.name.clone()))
        .collect();
    let index = AreaIndex::new(features.into_iter().map(|f| f.geometry).collect());
    if let Some(file) = &kept {
        let keep = || -> std::io::Result<()> {
            let dir = file.parent().expect("a file in the cache directory");
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".join-index-{}.tmp", std::process::id()));
            std::fs::write(&tmp, index_file::encode(&names, &index))?;
            std::fs::rename(&tmp, file)
        };
        if let Err(e) = keep() {
            eprintln!(
                "warning: {}: cannot keep the index there ({e}); the join goes on without it",
                file.parent().map_or(file.as_path(), |d| d).display()
            );
        }
    }
    Ok((names, index, false))
}

/// `$PHUSO_CACHE_DIR`, else `$XDG_CACHE_HOME/phuso`, else `~/.cache/phuso`; none without a home.
pub(super) fn default_cache_dir() -> Option<std::path::PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    var("PHUSO_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("phuso")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("phuso")))
}
