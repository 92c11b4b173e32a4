//! `phuso init`: a data directory for any province from the bundled national files.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use phuso::ingest::national::{init_country, init_province};
use phuso::ingest::provinces::{PROVINCES, find};

/// Writes the data directory and says how well the crosswalk matched.
pub(super) fn init_command(
    province: &str,
    national: &Path,
    norms: &Path,
    out: &Path,
    force: bool,
) -> anyhow::Result<ExitCode> {
    use super::say;
    // Usage errors exit with 2, like clap's own.
    let whole = ["all", "vn", "viet nam", "việt nam"].contains(&province.to_lowercase().trim());
    let one = find(province);
    if !whole && one.is_none() {
        eprintln!(
            "error: --province {province:?}: no such province; give `all` for the whole country, or a 2025 GSO code or name, one of: {}",
            PROVINCES
                .iter()
                .map(|p| format!("{} {}", p.code, p.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    if !force && out.join("wards_2025.geojson").exists() {
        eprintln!(
            "error: --out {}: already holds a data directory (wards_2025.geojson); give another --out, or --force to replace it",
            out.display()
        );
        return Ok(ExitCode::from(2));
    }
    if whole {
        let started = std::time::Instant::now();
        let reports =
            init_country(national, norms, out).context("cannot set up the whole country")?;
        let wards: usize = reports.iter().map(|r| r.wards).sum();
        let households: f64 = reports.iter().map(|r| r.households_2019).sum();
        let lost: f64 = reports.iter().map(|r| r.households_unmatched).sum();
        let without: usize = reports.iter().map(|r| r.wards_without_census.len()).sum();
        say(&format!(
            "Việt Nam: {} provinces, {wards} wards; 2019 census {households:.0} households, of which {lost:.0} ({:.2} %) in units named by no ward's formed_from text; {without} wards without census households ({:.1} s)",
            reports.len(),
            100.0 * lost / households.max(1.0),
            started.elapsed().as_secs_f64()
        ))?;
        return wrote(out);
    }
    let Some(p) = one else {
        return Ok(ExitCode::from(2));
    };
    let started = std::time::Instant::now();
    let r = init_province(national, norms, p, out)
        .with_context(|| format!("cannot set up {} {}", p.code, p.name))?;
    say(&format!(
        "{} {}: {} wards; 2019 census {} units of the former provinces {}, {:.0} households; \
         {} units ({:.0} households, {:.2} %) named by no ward's formed_from text; {} text items \
         unmatched or ambiguous; {} wards without census households ({:.1} s)",
        r.province,
        r.name,
        r.wards,
        r.units_2019,
        p.formed_from.join("+"),
        r.households_2019,
        r.units_unmatched,
        r.households_unmatched,
        100.0 * r.unmatched_share,
        r.items_unmatched.len(),
        r.wards_without_census.len(),
        started.elapsed().as_secs_f64()
    ))?;
    wrote(out)
}

/// The last line of `init`: where the directory is and what to run next.
fn wrote(out: &Path) -> anyhow::Result<ExitCode> {
    super::say(&format!(
        "wrote {}; see crosswalk_unmatched.csv. Next: phuso serve --data {}",
        out.display(),
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
