//! `phuso aggregate`, `phuso campaign-index` and `phuso report --aggregates`: the campaign's
//! visits as integer aggregates, the join a cluster computes them with, and the figures from
//! them (`phuso-spark report` runs the last two on its driver).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use phuso::engine::{Aggregates, Engine, EngineConfig};
use phuso_kernel::index_file;
use serde_json::json;

/// The engine of `config` with the visits of aggregates file `path`.
pub(super) fn load_aggregated(config: &EngineConfig, path: &Path) -> anyhow::Result<Engine> {
    let a = Aggregates::read(path)?;
    Ok(Engine::load_aggregated(
        &config.paths,
        config.population,
        config.hex_resolution,
        (path, &a),
    )?)
}

/// Writes the aggregates of the directory's visits, computed on this machine.
pub(super) fn aggregate_command(config: &EngineConfig, out: &Path) -> anyhow::Result<ExitCode> {
    let (engine, tally) =
        Engine::load_live(&config.paths, config.population, config.hex_resolution)?;
    let a = engine.aggregates_of(&tally, &config.paths)?;
    let text = serde_json::to_vec(&a)?;
    std::fs::write(out, text).with_context(|| format!("{}: cannot write", out.display()))?;
    eprintln!(
        "{} rows read, {} kept, {} in no area; {} visit, {} household, {} funnel and {} cell entries written to {}",
        a.rows_read,
        a.rows_accepted,
        a.outside,
        a.visits.len(),
        a.households.len(),
        a.funnel.len(),
        a.cells.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the campaign's join for a cluster into folder `out`: `leaves.idx` (the areas that
/// receive visits first), `wards.idx` (wards with neighbourhoods: a visit in no neighbourhood
/// of theirs counts for the ward; absent when there are none) and `campaign.json` (campaign
/// window, H3 resolution, the box of the wards, the roster's team ids).
pub(super) fn campaign_index_command(
    config: &EngineConfig,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    // The visits are not needed: the areas, the roster and the norms are.
    let mut paths = config.paths.clone();
    paths.visits = out.join("(no visits)");
    let (engine, tally) = Engine::load_live(&paths, config.population, config.hex_resolution)?;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let names = |positions: &[usize]| -> Vec<(String, String)> {
        positions
            .iter()
            .map(|&p| {
                let a = &engine.areas()[p];
                (a.code.0.clone(), a.name.clone())
            })
            .collect()
    };
    let ((leaf_index, leaves), wards) = tally.indexes();
    let write = |name: &str, bytes: &[u8]| {
        let p = out.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("{}: cannot write", p.display()))
    };
    write(
        "leaves.idx",
        &index_file::encode(&names(leaves), leaf_index),
    )?;
    let wards_file = match wards {
        Some((index, positions)) => {
            write("wards.idx", &index_file::encode(&names(positions), index))?;
            Some("wards.idx")
        }
        None => {
            let _ = std::fs::remove_file(out.join("wards.idx"));
            None
        }
    };
    let c = engine.campaign();
    let e = engine.visit_extent();
    let campaign = json!({
        "format": "phuso-campaign-index/1",
        "campaign_start": c.start,
        "start_day": phuso_kernel::visit_row::epoch_day(c.start),
        "days": c.days,
        "hex_resolution": u8::from(config.hex_resolution),
        "extent": [e.min_lon, e.min_lat, e.max_lon, e.max_lat],
        "teams": engine.teams().iter().map(|t| t.team_id.as_str()).collect::<Vec<_>>(),
        "leaves": "leaves.idx",
        "wards": wards_file,
    });
    write(
        "campaign.json",
        serde_json::to_string_pretty(&campaign)?.as_bytes(),
    )?;
    eprintln!(
        "campaign index in {}: {} areas receive visits first, {} wards for the parts no neighbourhood covers, {} teams",
        out.display(),
        leaves.len(),
        wards.map_or(0, |(_, w)| w.len()),
        engine.teams().len()
    );
    Ok(ExitCode::SUCCESS)
}
