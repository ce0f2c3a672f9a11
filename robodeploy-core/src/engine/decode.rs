//! Decoding what the store holds at start, on every core: every table is scanned, then the
//! large ones are decoded side by side (a large fleet's device records, the fleet record that
//! lists its robots, the deployments' records and the jobs' journals), each table's rows kept
//! in key order, so what is assembled from them ([`super::recover`]) does not depend on which
//! thread decoded what.

use crate::lifecycle::ExecutableRecord;
use crate::model::{DeploymentId, Fleet, JobId, Package};
use crate::store::{Store, StoreError, Table};

use super::journal::JournalEntry;
use super::persist::{MachineHeader, StoredDeployment, StoredDevice, StoredJob};

/// A table's rows as scanned: keys and values, in key order.
type Rows = Vec<(String, Vec<u8>)>;

/// Decodes one stored value.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    table: Table,
    key: &str,
    value: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(value).map_err(|source| StoreError::Decode {
        table,
        key: key.to_owned(),
        source,
    })
}

/// One row of the deployments table that recovery reads.
pub(crate) enum DeploymentRow {
    /// `id`: the deployment as created.
    Created(Box<StoredDeployment>),
    /// `id/machine`: its machine's header.
    Header(MachineHeader),
    /// `id/exe/NNNN`: one executable's record (keys sort by index: in order).
    Exe(ExecutableRecord),
    /// `id/final`: it was deprovisioned.
    Final,
    /// `id/ended`: when it ended.
    Ended(crate::time::Time),
}

/// One row of the jobs table that recovery reads.
pub(crate) enum JobRow {
    /// `id`: the job as created.
    Created(Box<StoredJob>),
    /// `id/log/NNNNNNNNNN`: a chunk of its journal.
    Log(u64, Vec<JournalEntry>),
}

/// What the store holds, decoded: each table's rows in key order.
pub(crate) struct Decoded {
    pub(crate) packages: Vec<(String, Package)>,
    pub(crate) devices: Vec<(String, StoredDevice)>,
    pub(crate) fleets: Vec<(String, Fleet)>,
    pub(crate) tokens: Rows,
    pub(crate) deployments: Vec<(DeploymentId, DeploymentRow)>,
    pub(crate) jobs: Vec<(JobId, JobRow)>,
}

/// Scans and decodes every table recovery reads. A value that does not decode is an error
/// naming the first such key, in the order the tables are listed in [`Decoded`].
pub(crate) fn load(store: &dyn Store) -> Result<Decoded, StoreError> {
    let packages = store.scan(Table::Packages)?;
    let devices = store.scan(Table::Devices)?;
    let fleets = store.scan(Table::Fleets)?;
    let tokens = store.scan(Table::Tokens)?;
    let deployments = store.scan(Table::Deployments)?;
    let jobs = store.scan(Table::Jobs)?;
    let bytes: usize = [&packages, &devices, &fleets, &deployments, &jobs]
        .iter()
        .flat_map(|rows| rows.iter())
        .map(|(k, v)| k.len() + v.len())
        .sum();
    let threads = threads();
    let parallel = threads > 1 && bytes >= PARALLEL_DECODE_BYTES;
    let packages = decode_rows(packages, 1, |k, v| {
        Ok(Some((k.to_owned(), decode(Table::Packages, k, v)?)))
    });
    let decoded = if parallel {
        std::thread::scope(|scope| {
            let fleets = scope.spawn(|| decode_rows(fleets, threads, fleet_row));
            let deployments = scope.spawn(|| decode_rows(deployments, threads, deployment_row));
            let jobs = scope.spawn(|| decode_rows(jobs, threads, job_row));
            let devices = decode_rows(devices, threads, device_row);
            (devices, join(fleets), join(deployments), join(jobs))
        })
    } else {
        (
            decode_rows(devices, 1, device_row),
            decode_rows(fleets, 1, fleet_row),
            decode_rows(deployments, 1, deployment_row),
            decode_rows(jobs, 1, job_row),
        )
    };
    let (devices, fleets, deployments, jobs) = decoded;
    Ok(Decoded {
        packages: packages?,
        devices: devices?,
        fleets: fleets?,
        tokens,
        deployments: deployments?,
        jobs: jobs?,
    })
}

/// Below this many bytes in all, the store is decoded on the calling thread.
const PARALLEL_DECODE_BYTES: usize = 1 << 20;

/// Below this many rows a table is decoded on one thread.
const PARALLEL_DECODE_ROWS: usize = 4096;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(t) => t,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn device_row(key: &str, value: &[u8]) -> Result<Option<(String, StoredDevice)>, StoreError> {
    Ok(Some((key.to_owned(), decode(Table::Devices, key, value)?)))
}

fn fleet_row(key: &str, value: &[u8]) -> Result<Option<(String, Fleet)>, StoreError> {
    Ok(Some((key.to_owned(), decode(Table::Fleets, key, value)?)))
}

/// A deployments row by its key's shape; rows of other shapes (and keys that do not start
/// with an id) are skipped.
fn deployment_row(
    key: &str,
    value: &[u8],
) -> Result<Option<(DeploymentId, DeploymentRow)>, StoreError> {
    let t = Table::Deployments;
    let mut parts = key.split('/');
    let Some(Ok(id)) = parts.next().map(str::parse::<DeploymentId>) else {
        return Ok(None);
    };
    let row = match (parts.next(), parts.next()) {
        (None, _) => DeploymentRow::Created(Box::new(decode(t, key, value)?)),
        (Some("machine"), None) => DeploymentRow::Header(decode(t, key, value)?),
        (Some("exe"), Some(_)) => DeploymentRow::Exe(decode(t, key, value)?),
        (Some("final"), None) => DeploymentRow::Final,
        // Milliseconds in ASCII decimal: a JSON number.
        (Some("ended"), None) => {
            DeploymentRow::Ended(crate::time::Time::from_millis(decode(t, key, value)?))
        }
        _ => return Ok(None),
    };
    Ok(Some((id, row)))
}

/// A jobs row by its key's shape; rows of other shapes are skipped.
fn job_row(key: &str, value: &[u8]) -> Result<Option<(JobId, JobRow)>, StoreError> {
    let mut parts = key.split('/');
    let Some(Ok(id)) = parts.next().map(str::parse::<JobId>) else {
        return Ok(None);
    };
    let row = match parts.next() {
        None => JobRow::Created(Box::new(decode(Table::Jobs, key, value)?)),
        Some("log") => {
            let seq = parts
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            JobRow::Log(seq, decode(Table::Jobs, key, value)?)
        }
        _ => return Ok(None),
    };
    Ok(Some((id, row)))
}

/// Decodes `rows` with `f` (`None`: a row to skip), on up to `threads` threads when there are
/// many; the result keeps the rows' order, and an error is the first row's in that order.
fn decode_rows<T: Send>(
    rows: Rows,
    threads: usize,
    f: impl Fn(&str, &[u8]) -> Result<Option<T>, StoreError> + Sync,
) -> Result<Vec<T>, StoreError> {
    let decode_part = |part: &[(String, Vec<u8>)]| {
        let mut out = Vec::with_capacity(part.len());
        for (k, v) in part {
            if let Some(t) = f(k, v)? {
                out.push(t);
            }
        }
        Ok::<_, StoreError>(out)
    };
    if threads < 2 || rows.len() < PARALLEL_DECODE_ROWS {
        return decode_part(&rows);
    }
    let chunk = rows.len().div_ceil(threads);
    let decode_part = &decode_part;
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(chunk)
            .map(|part| scope.spawn(move || decode_part(part)))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for part in parts {
            out.extend(join(part)?);
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, WriteBatch};

    #[test]
    fn rows_decode_in_key_order_on_many_threads_and_the_first_bad_row_is_the_error() {
        let rows: Rows = (0..10_000)
            .map(|i| (format!("k{i:05}"), i.to_string().into_bytes()))
            .collect();
        let f = |k: &str, v: &[u8]| {
            decode::<u32>(Table::Devices, k, v).map(|n| (n % 3 != 0).then_some(n))
        };
        let one = decode_rows(rows.clone(), 1, f).unwrap();
        let many = decode_rows(rows.clone(), 4, f).unwrap();
        assert_eq!(one, many);
        assert_eq!(many.len(), 6_666);
        let mut bad = rows;
        bad[7_000].1 = b"x".to_vec();
        bad[9_000].1 = b"y".to_vec();
        let err = decode_rows(bad, 4, f).unwrap_err();
        assert!(matches!(err, StoreError::Decode { key, .. } if key == "k07000"));
    }

    #[test]
    fn an_empty_store_decodes_to_nothing() {
        let store = MemoryStore::new();
        store.write(WriteBatch::default()).unwrap();
        let d = load(&store).unwrap();
        assert!(d.packages.is_empty() && d.devices.is_empty() && d.jobs.is_empty());
    }
}
