//! Seeded synthetic inputs: neighbourhood polygons, team rosters and visits. **Synthetic**: the
//! real neighbourhoods, teams and visits are not public. Real inputs are the 2025 ward polygons
//! and the 2019 census; everything generated follows from them and the seed.
//!
//! - Neighbourhoods: `neighbourhoods` in total (586 by default, one per team as in the province),
//!   apportioned to wards by `population^0.5` (so populous wards get more but larger neighbourhoods),
//!   at least 3 per ward; each ward is split by a Voronoi diagram of k-means centres of points
//!   sampled in it, clipped to the ward. Population and households are split with random weights.
//! - Teams: one per neighbourhood, 3–10 members, `members` in total (3,329 by default), 35% TNTN.
//! - Visits: exactly `visits` rows over the first `days_elapsed` days of the campaign, spread over
//!   teams and days by members × team pace × daily noise (with a first-week ramp-up and lighter
//!   Sundays); 40% of visits reach a new household, the rest follow up households already reached.
//!   Each team sweeps its neighbourhood outwards from a base, so unreached homes are clustered.
//!   GPS: a few metres of noise, and 1.5% of points off by ~150 m (some land outside the area).
//!   Written in batches, so memory does not grow with `visits` (only with households).

pub mod voronoi;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use geo::{Area, BoundingRect, Contains, Coord, MultiPolygon, Point, Rect};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::ingest::boundaries::{BoundaryFields, read_boundaries};
use crate::ingest::census::read_census;
use crate::metrics::Campaign;
use crate::model::Service;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// 2025 ward polygons.
    pub wards: PathBuf,
    /// 2019 census with crosswalk.
    pub census: PathBuf,
    /// Output directory.
    pub out_dir: PathBuf,
    /// The seed: same seed, same files.
    pub seed: u64,
    /// Number of visits to write.
    pub visits: u64,
    /// Days of the campaign that have data (the rest is the future).
    pub days_elapsed: u32,
    /// Number of neighbourhoods (= teams).
    pub neighbourhoods: usize,
    /// Total team members.
    pub members: u32,
    /// Campaign settings (start date).
    pub campaign: Campaign,
    /// Also write `visits.csv`.
    pub csv: bool,
    /// Rows per Parquet batch.
    pub batch_rows: usize,
}

impl GenerateConfig {
    /// The bundled campaign's settings for a data directory.
    #[must_use]
    pub fn bundled(data_dir: &Path, out_dir: &Path, campaign: Campaign) -> Self {
        Self {
            wards: data_dir.join("wards_2025.geojson"),
            census: data_dir.join("census_2019.csv"),
            out_dir: out_dir.to_owned(),
            seed: 2025,
            visits: 1_600_000,
            days_elapsed: 35,
            neighbourhoods: 586,
            members: 3_329,
            campaign,
            csv: false,
            batch_rows: 1 << 20,
        }
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// Reading the real inputs failed.
    #[error(transparent)]
    Ingest(#[from] crate::IngestError),
    /// Writing an output failed.
    #[error("{}: cannot write: {message}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The request cannot be met.
    #[error("{0}")]
    Invalid(String),
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    /// Seed used.
    pub seed: u64,
    /// Neighbourhoods written.
    pub neighbourhoods: usize,
    /// Teams written.
    pub teams: usize,
    /// Total members.
    pub members: u32,
    /// Households (homes) simulated.
    pub households: u64,
    /// Visits written.
    pub visits: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

fn write_err(file: &Path, e: impl std::fmt::Display) -> GenerateError {
    GenerateError::Write {
        file: file.to_owned(),
        message: e.to_string(),
    }
}

/// SplitMix64: a stable mixer for deriving seeds and pseudonymous ids.
#[must_use]
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn rng_for(seed: u64, stream: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix64(
        seed ^ splitmix64(stream.wrapping_mul(0x1000_0000_01b3) ^ index),
    ))
}

/// Splits `total` into integer parts proportional to `weights` (largest remainder), each at
/// least `min`. Deterministic: ties go to the lower index.
///
/// # Panics
/// When `min × weights.len() > total`.
#[must_use]
pub fn apportion(weights: &[f64], total: u64, min: u64) -> Vec<u64> {
    let n = weights.len() as u64;
    assert!(
        min * n <= total,
        "cannot give {min} to each of {n} parts out of {total}"
    );
    let free = total - min * n;
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        let mut out = vec![min + free / n.max(1); weights.len()];
        for slot in out.iter_mut().take((free % n.max(1)) as usize) {
            *slot += 1;
        }
        return out;
    }
    let exact: Vec<f64> = weights.iter().map(|w| free as f64 * w / sum).collect();
    let mut out: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut left = free - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out.iter().map(|v| v + min).collect()
}

/// A uniformly random point inside `area` (rejection sampling in its bounding box).
fn sample_in(area: &MultiPolygon<f64>, bbox: Rect<f64>, rng: &mut impl Rng) -> Coord<f64> {
    loop {
        let c = Coord {
            x: rng.random_range(bbox.min().x..bbox.max().x),
            y: rng.random_range(bbox.min().y..bbox.max().y),
        };
        if area.contains(&Point(c)) {
            return c;
        }
    }
}

/// One generated neighbourhood.
struct Neighbourhood {
    code: String,
    name: String,
    ward_code: String,
    geometry: MultiPolygon<f64>,
    population: u64,
    households: u64,
}

/// Splits one ward into `n` neighbourhoods (k-means centres of sampled points → clipped Voronoi).
fn split_ward(
    area: &MultiPolygon<f64>,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<MultiPolygon<f64>>, String> {
    let bbox = area.bounding_rect().ok_or("empty ward")?;
    let total = area.unsigned_area();
    for _attempt in 0..8 {
        let samples: Vec<Coord<f64>> = (0..(n * 60).max(400))
            .map(|_| sample_in(area, bbox, rng))
            .collect();
        let mut centres: Vec<Coord<f64>> = (0..n).map(|i| samples[i * samples.len() / n]).collect();
        for _ in 0..10 {
            let mut sums = vec![(0.0, 0.0, 0_u32); n];
            for s in &samples {
                let nearest = (0..n)
                    .min_by(|&a, &b| dist2(*s, centres[a]).total_cmp(&dist2(*s, centres[b])))
                    .expect("n ≥ 1");
                sums[nearest].0 += s.x;
                sums[nearest].1 += s.y;
                sums[nearest].2 += 1;
            }
            for (c, (x, y, k)) in centres.iter_mut().zip(sums) {
                if k > 0 {
                    *c = Coord {
                        x: x / f64::from(k),
                        y: y / f64::from(k),
                    };
                }
            }
        }
        let pad = (bbox.width() + bbox.height()) * 0.1;
        let bounds = Rect::new(
            Coord {
                x: bbox.min().x - pad,
                y: bbox.min().y - pad,
            },
            Coord {
                x: bbox.max().x + pad,
                y: bbox.max().y + pad,
            },
        );
        let parts = voronoi::split(area, &centres, bounds);
        let tiny = total / (n as f64) / 50.0;
        if parts.iter().all(|p| p.unsigned_area() > tiny) {
            return Ok(parts);
        }
    }
    Err(format!("could not split into {n} non-empty neighbourhoods"))
}

fn dist2(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).powi(2) + (a.y - b.y).powi(2)
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

fn write_neighbourhoods(
    path: &Path,
    nbs: &[Neighbourhood],
    seed: u64,
) -> Result<(), GenerateError> {
    let features: Vec<serde_json::Value> = nbs
        .iter()
        .map(|n| {
            let polys: Vec<Vec<Vec<[f64; 2]>>> = n
                .geometry
                .0
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| r.0.iter().map(|c| [round7(c.x), round7(c.y)]).collect())
                        .collect()
                })
                .collect();
            serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": n.code, "name": n.name, "ward_code": n.ward_code,
                    "population": n.population, "households": n.households, "synthetic": true,
                },
                "geometry": { "type": "MultiPolygon", "coordinates": polys },
            })
        })
        .collect();
    let doc = serde_json::json!({
        "type": "FeatureCollection",
        "name": format!("SYNTHETIC neighbourhoods (khu phố / ấp), seed {seed}: not real boundaries"),
        "features": features,
    });
    let file = File::create(path).map_err(|e| write_err(path, e))?;
    serde_json::to_writer(BufWriter::new(file), &doc).map_err(|e| write_err(path, e))
}

/// One team's simulation state.
struct TeamSim {
    id: String,
    nb: usize,
    members: u32,
    pace: f64,
    cursor: u64,
    rng: ChaCha8Rng,
}

/// Column buffers for one batch of visits.
#[derive(Default)]
struct Batch {
    visit_id: Vec<u64>,
    team_id: Vec<String>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    ts: Vec<i64>,
    household_id: Vec<u64>,
    service: Vec<&'static str>,
}

impl Batch {
    fn len(&self) -> usize {
        self.visit_id.len()
    }

    fn frame(&mut self) -> PolarsResult<DataFrame> {
        let height = self.len();
        let ts = Int64Chunked::from_vec("ts".into(), std::mem::take(&mut self.ts))
            .into_datetime(TimeUnit::Milliseconds, None);
        DataFrame::new(
            height,
            vec![
                Column::new("visit_id".into(), std::mem::take(&mut self.visit_id)),
                Column::new("team_id".into(), std::mem::take(&mut self.team_id)),
                Column::new("lon".into(), std::mem::take(&mut self.lon)),
                Column::new("lat".into(), std::mem::take(&mut self.lat)),
                ts.into_column(),
                Column::new(
                    "household_id".into(),
                    std::mem::take(&mut self.household_id),
                ),
                Column::new(
                    "service".into(),
                    std::mem::take(&mut self.service)
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

/// The files [`generate`] writes into its output directory (`visits.csv` only with `csv`).
pub const OUTPUT_FILES: [&str; 4] = [
    "neighbourhoods.geojson",
    "teams.csv",
    "visits.parquet",
    "visits.csv",
];

/// Writes the synthetic campaign into `config.out_dir`.
///
/// # Errors
/// Unreadable real inputs, impossible totals, or unwritable outputs.
#[expect(clippy::too_many_lines, reason = "one linear pipeline")]
pub fn generate(config: &GenerateConfig) -> Result<GenerateSummary, GenerateError> {
    let seed = config.seed;
    let wards = read_boundaries(&config.wards, &BoundaryFields::default())?;
    let census = read_census(
        &config.census,
        &wards.iter().map(|w| w.code.clone()).collect(),
    )?;
    if config.neighbourhoods < wards.len() * 3 {
        return Err(GenerateError::Invalid(format!(
            "--neighbourhoods {}: need at least 3 per ward ({})",
            config.neighbourhoods,
            wards.len() * 3
        )));
    }
    let min_members = 3 * config.neighbourhoods as u64;
    let max_members = 10 * config.neighbourhoods as u64;
    if !(min_members..=max_members).contains(&u64::from(config.members)) {
        return Err(GenerateError::Invalid(format!(
            "--members {}: with 3–10 per team, expected {min_members}..={max_members}",
            config.members
        )));
    }
    if config.days_elapsed == 0 || config.days_elapsed > config.campaign.days {
        return Err(GenerateError::Invalid(format!(
            "--days-elapsed {}: expected 1..={}",
            config.days_elapsed, config.campaign.days
        )));
    }
    std::fs::create_dir_all(&config.out_dir).map_err(|e| write_err(&config.out_dir, e))?;

    // Neighbourhoods per ward ∝ population^0.5, at least 3.
    let ward_pop: Vec<f64> = wards
        .iter()
        .map(|w| census.wards.get(&w.code).map_or(0.0, |c| c.population))
        .collect();
    let ward_hh: Vec<f64> = wards
        .iter()
        .map(|w| census.wards.get(&w.code).map_or(0.0, |c| c.households))
        .collect();
    let counts = apportion(
        &ward_pop.iter().map(|p| p.sqrt()).collect::<Vec<_>>(),
        config.neighbourhoods as u64,
        3,
    );
    let split: Result<Vec<Vec<Neighbourhood>>, GenerateError> = wards
        .par_iter()
        .enumerate()
        .map(|(w, ward)| {
            let n = counts[w] as usize;
            let mut rng = rng_for(seed, 1, w as u64);
            let parts = split_ward(&ward.geometry, n, &mut rng)
                .map_err(|e| GenerateError::Invalid(format!("ward {}: {e}", ward.code)))?;
            let weights: Vec<f64> = (0..n).map(|_| rng.random_range(0.6..1.4)).collect();
            let pops = apportion(&weights, ward_pop[w].round() as u64, 0);
            let hhs = apportion(&weights, ward_hh[w].round() as u64, 0);
            let kind = if ward.properties.get("unit_type").and_then(|v| v.as_str()) == Some("Xã") {
                "Ấp"
            } else {
                "Khu phố"
            };
            Ok(parts
                .into_iter()
                .enumerate()
                .map(|(i, geometry)| Neighbourhood {
                    code: format!("{}-{:02}", ward.code, i + 1),
                    name: format!("{kind} {} ({})", i + 1, ward.name),
                    ward_code: ward.code.0.clone(),
                    geometry,
                    population: pops[i],
                    households: hhs[i],
                })
                .collect())
        })
        .collect();
    let nbs: Vec<Neighbourhood> = split?.into_iter().flatten().collect();
    let nb_path = config.out_dir.join("neighbourhoods.geojson");
    write_neighbourhoods(&nb_path, &nbs, seed)?;

    // Teams: one per neighbourhood, 3–10 members each, adjusted to the exact total.
    let mut rng = rng_for(seed, 2, 0);
    let mut members: Vec<u32> = (0..nbs.len()).map(|_| rng.random_range(3..=10)).collect();
    let mut sum: i64 = members.iter().map(|&m| i64::from(m)).sum();
    while sum != i64::from(config.members) {
        let i = rng.random_range(0..members.len());
        if sum < i64::from(config.members) && members[i] < 10 {
            members[i] += 1;
            sum += 1;
        } else if sum > i64::from(config.members) && members[i] > 3 {
            members[i] -= 1;
            sum -= 1;
        }
    }
    let kinds: Vec<&str> = (0..nbs.len())
        .map(|_| {
            if rng.random_bool(0.35) {
                "TNTN"
            } else {
                "CNSCD"
            }
        })
        .collect();
    let teams_path = config.out_dir.join("teams.csv");
    {
        let mut w =
            BufWriter::new(File::create(&teams_path).map_err(|e| write_err(&teams_path, e))?);
        let mut lines = String::from("team_id,area_code,ward_code,kind,members\n");
        for (i, nb) in nbs.iter().enumerate() {
            lines.push_str(&format!(
                "T{:04},{},{},{},{}\n",
                i + 1,
                nb.code,
                nb.ward_code,
                kinds[i],
                members[i]
            ));
        }
        w.write_all(lines.as_bytes())
            .and_then(|()| w.flush())
            .map_err(|e| write_err(&teams_path, e))?;
    }

    // Homes: one point per household, uniformly inside its neighbourhood.
    let homes: Vec<Vec<Coord<f64>>> = nbs
        .par_iter()
        .enumerate()
        .map(|(i, nb)| {
            let mut rng = rng_for(seed, 3, i as u64);
            let bbox = nb
                .geometry
                .bounding_rect()
                .expect("non-empty neighbourhood");
            let mut homes: Vec<Coord<f64>> = (0..nb.households)
                .map(|_| sample_in(&nb.geometry, bbox, &mut rng))
                .collect();
            // Teams sweep door to door outwards from a base: homes in visiting order, by noisy
            // distance from the first one, so unreached homes cluster far from the base.
            if let Some(&base) = homes.first() {
                let mut keyed: Vec<(f64, Coord<f64>)> = homes
                    .iter()
                    .map(|&h| (dist2(h, base).sqrt() * rng.random_range(0.8..1.25), h))
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                homes = keyed.into_iter().map(|(_, h)| h).collect();
            }
            homes
        })
        .collect();

    // Visits per (day, team): members × pace × ramp × noise, apportioned to the exact total.
    let mut sims: Vec<TeamSim> = (0..nbs.len())
        .map(|i| {
            let mut rng = rng_for(seed, 4, i as u64);
            TeamSim {
                id: format!("T{:04}", i + 1),
                nb: i,
                members: members[i],
                pace: rng.random_range(0.6..1.4),
                cursor: 0,
                rng,
            }
        })
        .collect();
    let days = config.days_elapsed as usize;
    let mut weights = Vec::with_capacity(days * sims.len());
    let mut noise = rng_for(seed, 5, 0);
    for d in 0..days {
        let date = config.campaign.start + Days::new(d as u64);
        let ramp = if d < 7 {
            0.5 + 0.5 * d as f64 / 7.0
        } else {
            1.0
        };
        let sunday = if date.weekday() == Weekday::Sun {
            0.5
        } else {
            1.0
        };
        for s in &sims {
            weights
                .push(f64::from(s.members) * s.pace * ramp * sunday * noise.random_range(0.7..1.3));
        }
    }
    let per_cell = apportion(&weights, config.visits, 0);

    let visits_path = config.out_dir.join("visits.parquet");
    let file = File::create(&visits_path).map_err(|e| write_err(&visits_path, e))?;
    let schema = Schema::from_iter([
        Field::new("visit_id".into(), DataType::UInt64),
        Field::new("team_id".into(), DataType::String),
        Field::new("lon".into(), DataType::Float64),
        Field::new("lat".into(), DataType::Float64),
        Field::new(
            "ts".into(),
            DataType::Datetime(TimeUnit::Milliseconds, None),
        ),
        Field::new("household_id".into(), DataType::UInt64),
        Field::new("service".into(), DataType::String),
    ]);
    let mut writer = ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .batched(&schema)
        .map_err(|e| write_err(&visits_path, e))?;
    let mut csv = if config.csv {
        let p = config.out_dir.join("visits.csv");
        let mut w = BufWriter::new(File::create(&p).map_err(|e| write_err(&p, e))?);
        w.write_all(b"visit_id,team_id,lon,lat,ts,household_id,service\n")
            .map_err(|e| write_err(&p, e))?;
        Some((p, w))
    } else {
        None
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut batch = Batch::default();
    let mut next_id = 1_u64;
    let follow_up = [
        Service::VneidActivation,
        Service::DvcAccount,
        Service::OnlinePayment,
        Service::QrPayment,
    ];
    for d in 0..days {
        let day_ms = (config.campaign.start + Days::new(d as u64))
            .signed_duration_since(epoch)
            .num_days()
            * 86_400_000;
        for (t, sim) in sims.iter_mut().enumerate() {
            let home = &homes[sim.nb];
            let h = home.len() as u64;
            for _ in 0..per_cell[d * nbs.len() + t] {
                if h == 0 {
                    break;
                }
                let rng = &mut sim.rng;
                let new = sim.cursor == 0 || (sim.cursor < h && rng.random_bool(0.4));
                let k = if new {
                    sim.cursor += 1;
                    sim.cursor - 1
                } else {
                    rng.random_range(0..sim.cursor)
                };
                let idx = usize::try_from(k).expect("fits memory");
                let p = home[idx];
                let big = rng.random_bool(0.015);
                let sigma = if big { 150.0 } else { 6.0 } / 111_320.0;
                let (dx, dy): (f64, f64) = (gauss(rng) * sigma, gauss(rng) * sigma);
                let service = if new {
                    if rng.random_bool(0.6) {
                        Service::VneidInstall
                    } else {
                        Service::VneidActivation
                    }
                } else {
                    follow_up[rng.random_range(0..follow_up.len())]
                };
                batch.visit_id.push(next_id);
                next_id += 1;
                batch.team_id.push(sim.id.clone());
                batch.lon.push(round7(p.x + dx));
                batch.lat.push(round7(p.y + dy));
                batch
                    .ts
                    .push(day_ms + rng.random_range(27_000_000..70_200_000)); // 07:30–19:30
                batch.household_id.push(splitmix64(
                    seed.rotate_left(17) ^ ((sim.nb as u64) << 32 | idx as u64),
                ));
                batch.service.push(service.as_str());
            }
            if batch.len() >= config.batch_rows {
                flush(&mut batch, &mut writer, csv.as_mut(), &visits_path)?;
            }
        }
    }
    flush(&mut batch, &mut writer, csv.as_mut(), &visits_path)?;
    writer.finish().map_err(|e| write_err(&visits_path, e))?;
    let mut files = vec![nb_path, teams_path, visits_path];
    if let Some((p, mut w)) = csv {
        w.flush().map_err(|e| write_err(&p, e))?;
        files.push(p);
    }
    Ok(GenerateSummary {
        seed,
        neighbourhoods: nbs.len(),
        teams: sims.len(),
        members: members.iter().sum(),
        households: homes.iter().map(|h| h.len() as u64).sum(),
        visits: next_id - 1,
        files,
    })
}

/// A standard normal deviate (Box–Muller).
fn gauss(rng: &mut impl Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn flush(
    batch: &mut Batch,
    writer: &mut polars::io::parquet::write::BatchedWriter<File>,
    csv: Option<&mut (PathBuf, BufWriter<File>)>,
    path: &Path,
) -> Result<(), GenerateError> {
    if batch.len() == 0 {
        return Ok(());
    }
    if let Some((p, w)) = csv {
        let mut text = String::with_capacity(batch.len() * 80);
        for i in 0..batch.len() {
            let ts = chrono::DateTime::from_timestamp_millis(
                batch.ts[i] - crate::ingest::visits::VN_OFFSET_MS,
            )
            .expect("valid time");
            let local =
                ts.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset"));
            text.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                batch.visit_id[i],
                batch.team_id[i],
                batch.lon[i],
                batch.lat[i],
                local.format("%Y-%m-%dT%H:%M:%S%:z"),
                batch.household_id[i],
                batch.service[i]
            ));
        }
        w.write_all(text.as_bytes()).map_err(|e| write_err(p, e))?;
    }
    let df = batch.frame().map_err(|e| write_err(path, e))?;
    writer.write_batch(&df).map_err(|e| write_err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_and_proportional() {
        assert_eq!(apportion(&[1.0, 1.0, 2.0], 8, 0), vec![2, 2, 4]);
        assert_eq!(apportion(&[1.0, 1.0, 1.0], 10, 3), vec![4, 3, 3]);
        assert_eq!(apportion(&[3.0, 1.0], 10, 2), vec![7, 3]);
        assert_eq!(apportion(&[0.0, 0.0], 5, 0), vec![3, 2]);
        assert_eq!(
            apportion(&[0.2, 0.3, 0.5], 1_000_001, 0)
                .iter()
                .sum::<u64>(),
            1_000_001
        );
    }
}
