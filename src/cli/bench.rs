//! `phuso bench`: kernel measurements as JSON lines.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use h3o::Resolution;
use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};
use phuso::ingest::table::Table;

use super::say;

pub(super) fn bench_command(
    areas: &Path,
    points: usize,
    points_file: Option<&Path>,
    h3: &[u8],
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let resolutions = h3
        .iter()
        .map(|&r| {
            Resolution::try_from(r)
                .with_context(|| format!("--h3: resolution {r}; expected 0..=15"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let geometries: Vec<_> = read_boundaries(areas, &BoundaryFields::default())?
        .into_iter()
        .map(|f| f.geometry)
        .collect();
    let t = Instant::now();
    let (lon, lat, source) = if let Some(path) = points_file {
        let table = Table::read_columns(path, "one row per point", &["lon", "lat"])?;
        let mut issues = Vec::new();
        let lon = table.f64s("lon", "longitude in degrees (WGS84)", &mut issues)?;
        let lat = table.f64s("lat", "latitude in degrees (WGS84)", &mut issues)?;
        (lon, lat, path.display().to_string())
    } else {
        let (lon, lat) = phuso::bench::clustered_points(&geometries, points, seed);
        (lon, lat, format!("generated, seed {seed}"))
    };
    say(&serde_json::json!({
        "areas": areas.display().to_string(),
        "area_count": geometries.len(),
        "points": lon.len(),
        "points_source": source,
        "points_ready_s": t.elapsed().as_secs_f64(),
        "threads": rayon::current_num_threads(),
    })
    .to_string())?;
    for m in phuso::bench::run(geometries, &lon, &lat, &resolutions) {
        say(&serde_json::to_string(&m)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
