//! Team rosters (`team_id`, `area_code`, `kind` CNSCD or TNTN, `members`) and their changes over
//! time (`team_id`, `effective_from`, `members`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::{IngestError, Problems, shown};
use crate::ingest::table::Table;
use crate::model::{AreaCode, RosterChange, Team, TeamKind};

/// Reads a roster; every team must have a unique id, a home leaf area (a neighbourhood, or a
/// ward where there are no neighbourhoods: where teams work and the projection is computed), a
/// kind and at least one member.
///
/// # Errors
/// Structural problems ([`IngestError::MissingColumn`], unreadable file) and, listed together,
/// every bad row ([`IngestError::Rows`]): duplicate ids, unknown or non-leaf area codes, bad
/// kinds or counts.
pub fn read_teams(
    path: &Path,
    leaves: &HashSet<AreaCode>,
    parents: &HashSet<AreaCode>,
) -> Result<Vec<Team>, IngestError> {
    let table = Table::read(path, "one row per team")?;
    parse_teams(&table, path, leaves, parents)
}

/// [`read_teams`] on a table already read (an upload); `path` names it in messages.
///
/// # Errors
/// As [`read_teams`].
pub fn parse_teams(
    table: &Table,
    path: &Path,
    leaves: &HashSet<AreaCode>,
    parents: &HashSet<AreaCode>,
) -> Result<Vec<Team>, IngestError> {
    let ids = table.text("team_id", "a unique team id")?;
    let areas = table.text("area_code", "the code of the team's home area")?;
    let kinds = table.text("kind", "CNSCD or TNTN")?;
    let members = table.text("members", "the number of members, a whole number ≥ 1")?;
    let mut problems = Problems::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(table.height());
    for row in 0..table.height() {
        let r = row + 1;
        if let Some(what) = table.malformed_at(row) {
            problems.push(format!("row {r}: {what}"));
            continue;
        }
        let Some(id) = ids[row].clone() else {
            problems.push(format!(
                "row {r}: column `team_id`: null; expected a unique team id"
            ));
            continue;
        };
        if let Some(first) = seen.insert(id.clone(), r) {
            problems.push(format!("row {r}: column `team_id`: duplicate id {id:?} (first in row {first}); ids must be unique"));
            continue;
        }
        let area = match &areas[row] {
            Some(a) if leaves.contains(&AreaCode(a.clone())) => AreaCode(a.clone()),
            Some(a) if parents.contains(&AreaCode(a.clone())) => {
                problems.push(format!(
                    "row {r}: column `area_code`: {a:?} for team {id:?} is an area with neighbourhoods; a team's home is one neighbourhood (khu phố / ấp), where its members are counted"
                ));
                continue;
            }
            other => {
                problems.push(format!(
                    "row {r}: column `area_code`: unknown code {} for team {id:?}; expected a code of the boundary files",
                    shown(other.as_deref())
                ));
                continue;
            }
        };
        let Some(kind) = kinds[row].as_deref().and_then(TeamKind::parse) else {
            problems.push(format!(
                "row {r}: column `kind`: value {}; expected CNSCD or TNTN",
                shown(kinds[row].as_deref())
            ));
            continue;
        };
        let count = members[row]
            .as_deref()
            .and_then(|m| m.parse::<u32>().ok())
            .filter(|&m| m >= 1);
        let Some(count) = count else {
            problems.push(format!(
                "row {r}: column `members`: value {}; expected a whole number ≥ 1",
                shown(members[row].as_deref())
            ));
            continue;
        };
        out.push(Team {
            team_id: id,
            area_code: area,
            kind,
            members: count,
            changes: Vec::new(),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(IngestError::Rows {
            file: path.to_owned(),
            problems: problems.into_lines(),
        })
    }
}

/// Reads roster changes: `team_id`, `effective_from` (a date, `YYYY-MM-DD`), `members` (a whole
/// number ≥ 0; 0 stands the team down). Every team must be in `teams`; a change dated after
/// `last_day` (the campaign's last day) is refused, since it could never count.
///
/// # Errors
/// As [`read_teams`]: structural problems, or every bad row listed together.
pub fn read_roster_changes(
    path: &Path,
    teams: &HashSet<String>,
    last_day: chrono::NaiveDate,
) -> Result<Vec<(String, RosterChange)>, IngestError> {
    let table = Table::read(path, "one row per change of a team's members")?;
    parse_roster_changes(&table, path, teams, last_day)
}

/// [`read_roster_changes`] on a table already read (an upload); `path` names it in messages.
///
/// # Errors
/// As [`read_roster_changes`].
pub fn parse_roster_changes(
    table: &Table,
    path: &Path,
    teams: &HashSet<String>,
    last_day: chrono::NaiveDate,
) -> Result<Vec<(String, RosterChange)>, IngestError> {
    let ids = table.text("team_id", "the id of a team of the roster")?;
    let dates = table.text("effective_from", "the first day of the change, YYYY-MM-DD")?;
    let members = table.text("members", "the members from that day, a whole number ≥ 0")?;
    let mut problems = Problems::default();
    let mut out = Vec::with_capacity(table.height());
    for row in 0..table.height() {
        let r = row + 1;
        if let Some(what) = table.malformed_at(row) {
            problems.push(format!("row {r}: {what}"));
            continue;
        }
        let id = match ids[row].as_deref() {
            Some(id) if teams.contains(id) => id.to_owned(),
            other => {
                problems.push(format!(
                    "row {r}: column `team_id`: unknown team {}; expected a team of the roster (add new teams with a roster file)",
                    shown(other)
                ));
                continue;
            }
        };
        let from = dates[row]
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
        let Some(from) = from else {
            problems.push(format!(
                "row {r}: column `effective_from`: value {}; expected a date YYYY-MM-DD",
                shown(dates[row].as_deref())
            ));
            continue;
        };
        if from > last_day {
            problems.push(format!(
                "row {r}: column `effective_from`: {from} for team {id:?} is after the campaign's last day {last_day}"
            ));
            continue;
        }
        let Some(count) = members[row]
            .as_deref()
            .and_then(|m| m.trim().parse::<u32>().ok())
        else {
            problems.push(format!(
                "row {r}: column `members`: value {}; expected a whole number ≥ 0",
                shown(members[row].as_deref())
            ));
            continue;
        };
        out.push((
            id,
            RosterChange {
                from,
                members: count,
            },
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(IngestError::Rows {
            file: path.to_owned(),
            problems: problems.into_lines(),
        })
    }
}

/// Adds `changes` to the teams they name, kept in date order (for one date, the later change
/// counts).
pub fn attach_changes(teams: &mut [Team], changes: Vec<(String, RosterChange)>) {
    let index: HashMap<String, usize> = teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.team_id.clone(), i))
        .collect();
    for (id, c) in changes {
        if let Some(&i) = index.get(&id) {
            teams[i].changes.push(c);
        }
    }
    for t in teams {
        t.changes.sort_by_key(|c| c.from); // stable: later changes of one date stay later
    }
}
