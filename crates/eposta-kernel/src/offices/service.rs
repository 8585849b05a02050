//! Use cases of the post-office registry: the CSV import, search, the admin's edit, and the
//! staff list that only an office's manager (or an admin) may see.

use std::io::Read;

use serde_json::json;
use tokio::sync::mpsc;

use super::domain::{self, FieldError, OfficeCode, OfficeFields, OfficeInput};
use super::import::{OfficeCsv, ReadError, RowError};
use super::store::{self, OfficeRow, StaffRow};
use crate::accounts::Role;
use crate::app::App;
use crate::audit::{self, Actor};
use crate::error::Error;
use crate::web::principal::SessionUser;

/// The most offices one search returns.
pub const MAX_LIMIT: i64 = 200;
/// How far a search can page; a client that needs more should narrow the search.
pub const MAX_OFFSET: i64 = 1_000_000;

/// One page of search results.
#[derive(Debug, Clone)]
pub struct Found {
    pub offices: Vec<OfficeRow>,
    pub limit: i64,
    pub offset: i64,
    /// Whether there are more results after this page.
    pub more: bool,
}

/// Searches the registry by code, postal code, name or municipality (anyone may).
pub async fn search(app: &App, q: &str, limit: i64, offset: i64) -> Result<Found, Error> {
    if q.chars().count() > domain::MAX_SEARCH {
        return Err(Error::invalid("q", "must be at most 100 characters"));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid("limit", "must be from 1 to 200"));
    }
    if !(0..=MAX_OFFSET).contains(&offset) {
        return Err(Error::invalid("offset", "must be from 0 to 1000000"));
    }
    let mut conn = app.db.conn().await?;
    // One more than asked tells whether there is a next page without counting them all.
    let mut offices = store::search(&mut conn, q, limit + 1, offset).await?;
    let more = offices.len() as i64 > limit;
    offices.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(Found {
        offices,
        limit,
        offset,
        more,
    })
}

/// The office with this code.
pub async fn by_code(app: &App, code: &str) -> Result<OfficeRow, Error> {
    let code = OfficeCode::parse(code).map_err(|_| Error::NotFound)?;
    let mut conn = app.db.conn().await?;
    store::by_code(&mut conn, code.as_str())
        .await?
        .ok_or(Error::NotFound)
}

/// An admin changes an office's data (its code stays: users and history refer to it).
/// Returns the office, or every rule the input broke.
pub async fn update(
    app: &App,
    user: &SessionUser,
    code: &str,
    input: &OfficeInput,
) -> Result<Result<OfficeRow, Vec<FieldError>>, Error> {
    if user.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    let old = by_code(app, code).await?;
    let fields = match domain::parse_office(&OfficeInput {
        code: old.code.clone(),
        ..input.clone()
    }) {
        Ok(f) => f,
        Err(errors) => return Ok(Err(errors)),
    };
    let changed = changed_fields(&old, &fields);
    if changed.is_empty() {
        return Ok(Ok(old));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::update(&mut tx, &fields, now).await? {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user.id),
            action: "office.updated",
            subject: &format!("office:{}", old.code),
            office_id: Some(old.id),
            details: json!({ "changed": changed }),
        },
    )
    .await?;
    let row = store::by_code(&mut tx, &old.code)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    tracing::info!(office = %old.code, "office updated");
    Ok(Ok(row))
}

fn changed_fields(old: &OfficeRow, new: &OfficeFields) -> Vec<&'static str> {
    [
        ("postal_code", old.postal_code != new.postal_code),
        ("name", old.name != new.name),
        ("municipality", old.municipality != new.municipality),
        ("address", old.address != new.address),
        ("latitude", old.latitude != new.latitude),
        ("longitude", old.longitude != new.longitude),
        ("opening_hours", old.opening_hours != new.opening_hours),
    ]
    .into_iter()
    .filter_map(|(f, differs)| differs.then_some(f))
    .collect()
}

/// The office a clerk or manager works at.
pub async fn own_office(app: &App, user: &SessionUser) -> Result<OfficeRow, Error> {
    let id = user.office_id.ok_or(Error::Forbidden)?;
    let mut conn = app.db.conn().await?;
    store::by_id(&mut conn, id).await?.ok_or(Error::NotFound)
}

/// Whether this user may see the staff list of an office: its own manager, or an admin.
pub fn may_see_staff(user: &SessionUser, office: &OfficeRow) -> bool {
    matches!(user.role, Role::Manager | Role::Admin) && user.may_act_for_office(office.id)
}

/// An office's staff (names and e-mail addresses: personal data, so every look is audited).
pub async fn staff(
    app: &App,
    user: &SessionUser,
    office: &OfficeRow,
) -> Result<Vec<StaffRow>, Error> {
    if !may_see_staff(user, office) {
        return Err(Error::Forbidden);
    }
    let mut tx = app.db.begin().await?;
    let staff = store::staff_of(&mut tx, office.id).await?;
    audit::append(
        &mut tx,
        app.now(),
        audit::Entry {
            actor: &Actor::User(user.id),
            action: "office.staff_viewed",
            subject: &format!("office:{}", office.code),
            office_id: Some(office.id),
            details: json!({ "shown": staff.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(staff)
}

/// How far an import has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportProgress {
    /// Bytes of the input read so far.
    pub bytes: u64,
    /// Rows read so far.
    pub rows: u64,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Rows equal to the office already stored.
    pub unchanged: u64,
}

/// Why an import changed nothing: the bad rows (the first [`MAX_REPORTED`]) and how many
/// there were in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportRejected {
    pub errors: Vec<RowError>,
    pub bad_rows: u64,
}

/// The most bad rows an import describes; the rest are only counted.
pub const MAX_REPORTED: usize = 1000;

/// Rows the reader hands to the writer at a time.
const CHUNK: usize = store::UPSERT_BATCH;

/// What the reading thread sends the writer.
#[derive(Default)]
struct Chunk {
    offices: Vec<OfficeFields>,
    errors: Vec<RowError>,
    bad_rows: u64,
    rows: u64,
    bytes: u64,
}

/// Imports an office CSV file (docs/offices-csv.md) in one transaction: every office is
/// inserted or updated by its code, or, if any row is bad, nothing changes and the bad rows
/// are returned. The input is read on a blocking thread, a chunk at a time, while the rows
/// before it are written, so a file of a million rows is never in memory whole.
pub async fn import_csv<R, P>(
    app: &App,
    actor: &Actor,
    input: R,
    mut progress: P,
) -> Result<Result<ImportReport, ImportRejected>, Error>
where
    R: Read + Send + 'static,
    P: FnMut(ImportProgress) + Send,
{
    let (send, mut receive) = mpsc::channel::<Result<Chunk, ReadError>>(4);
    let reader = tokio::task::spawn_blocking(move || read_chunks(input, &send));
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut report = ImportReport::default();
    let mut rejected = ImportRejected::default();
    while let Some(chunk) = receive.recv().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(ReadError::Header(e)) => {
                return Ok(Err(ImportRejected {
                    errors: vec![e],
                    bad_rows: 1,
                }));
            }
            Err(ReadError::Io(e)) => {
                return Err(Error::Internal(
                    anyhow::Error::new(e).context("reading the office file"),
                ));
            }
        };
        report.rows += chunk.rows;
        rejected.bad_rows += chunk.bad_rows;
        rejected.errors.extend(chunk.errors);
        // After the first bad row nothing will be committed, so stop writing.
        if rejected.bad_rows == 0 && !chunk.offices.is_empty() {
            let done = store::upsert_many(&mut tx, &chunk.offices, now).await?;
            report.inserted += done.inserted;
            report.updated += done.updated;
        }
        progress(ImportProgress {
            bytes: chunk.bytes,
            rows: report.rows,
        });
    }
    reader
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("the office file reader failed: {e}")))?;
    if rejected.bad_rows > 0 {
        // Dropping the transaction rolls it back.
        return Ok(Err(rejected));
    }
    report.unchanged = report.rows - report.inserted - report.updated;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "offices.imported",
            subject: "offices",
            office_id: None,
            details: json!({
                "rows": report.rows,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        rows = report.rows,
        inserted = report.inserted,
        updated = report.updated,
        "offices imported"
    );
    Ok(Ok(report))
}

/// Reads the file and sends it on in chunks. Once a row is bad, good rows are no longer
/// sent (they will not be written) and only the first [`MAX_REPORTED`] errors are.
fn read_chunks<R: Read>(input: R, send: &mpsc::Sender<Result<Chunk, ReadError>>) {
    let mut csv = match OfficeCsv::new(input) {
        Ok(c) => c,
        Err(e) => {
            let _ = send.blocking_send(Err(e));
            return;
        }
    };
    let mut chunk = Chunk::default();
    let mut reported = 0usize;
    let mut failed = false;
    loop {
        let row = csv.next_row();
        let end = row.is_none();
        match row {
            None => {}
            Some(Err(e)) => {
                let _ = send.blocking_send(Err(e));
                return;
            }
            Some(Ok(Ok(office))) => {
                chunk.rows += 1;
                if !failed {
                    chunk.offices.push(office);
                }
            }
            Some(Ok(Err(e))) => {
                chunk.rows += 1;
                chunk.bad_rows += 1;
                if !failed {
                    failed = true;
                    chunk.offices.clear();
                }
                if reported < MAX_REPORTED {
                    reported += 1;
                    chunk.errors.push(e);
                }
            }
        }
        if end || chunk.rows as usize >= CHUNK {
            chunk.bytes = csv.bytes_read();
            // The writer stops listening only when it has failed; then there is nothing to do.
            if send.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() || end {
                return;
            }
        }
    }
}
