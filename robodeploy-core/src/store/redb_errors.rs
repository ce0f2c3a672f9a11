//! Turning redb's errors into [`StoreError`]s that name the operation and the file.

use std::path::Path;

use super::StoreError;

/// Whether an error means the open database handle must be closed and opened again before it
/// can be used (redb latches an I/O failure until then).
pub(super) fn needs_reopen(e: &StoreError) -> bool {
    matches!(e, StoreError::Io { .. })
}

/// An I/O error of `op` on `path`.
pub(super) fn io_error(path: &Path, op: &str, e: std::io::Error) -> StoreError {
    StoreError::Io {
        message: format!("{op} {}: {e}", path.display()),
        source: Some(Box::new(e)),
    }
}

/// Classifies a redb error of `op` on the store at `path`: damage to the file becomes
/// [`StoreError::Corrupt`], everything else [`StoreError::Io`].
pub(super) fn classify(path: &Path, op: &str, e: impl Into<redb::Error>) -> StoreError {
    let e: redb::Error = e.into();
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("{op}: {reason}"),
    };
    match e {
        redb::Error::Corrupted(reason) => corrupt(reason),
        // Tables of other types than the store's: not a file this store wrote.
        e @ (redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }) => corrupt(e.to_string()),
        redb::Error::UpgradeRequired(v) => StoreError::Io {
            message: format!(
                "{op} {}: the file is in redb format {v}, which this build does not read",
                path.display()
            ),
            source: None,
        },
        redb::Error::DatabaseAlreadyOpen => StoreError::Io {
            message: format!(
                "{op} {}: the store is already open (in this or another process)",
                path.display()
            ),
            source: None,
        },
        redb::Error::PreviousIo => StoreError::Io {
            message: format!(
                "{op} {}: an earlier I/O failure must be cleared by reopening the store",
                path.display()
            ),
            source: None,
        },
        // redb reports a foreign file (magic number) as invalid data, and a file shorter than
        // its header says as an unexpected end: damage, not a failing disk.
        redb::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            corrupt(io.to_string())
        }
        redb::Error::Io(io) => io_error(path, op, io),
        other => StoreError::Io {
            message: format!("{op} {}: {other}", path.display()),
            source: Some(Box::new(other)),
        },
    }
}

/// A closure for `map_err` that classifies with [`classify`].
pub(super) fn on<'a, E: Into<redb::Error>>(
    path: &'a Path,
    op: &'a str,
) -> impl FnOnce(E) -> StoreError + 'a {
    move |e| classify(path, op, e)
}
