//! The store's identity: a random id generated the first time an engine opens the store and
//! kept in it ([`Table::Meta`] under `store_id`).
//!
//! The engine labels every instance it starts with this id
//! ([`labels::STORE`](crate::runtime::labels::STORE)), so an instance a runtime still runs can
//! be told apart from one this store started: after the store file was deleted (or replaced by
//! another), a new store gets a new id, and the engine refuses to start a second copy of an
//! executable a previous store left running (see the engine's [recovery](crate::engine)).
//!
//! ```
//! use robodeploy_core::store::{MemoryStore, store_id};
//! let store = MemoryStore::new();
//! let id = store_id(&store).unwrap();
//! assert_eq!(id.len(), 32);
//! // Kept: the same store answers the same id.
//! assert_eq!(store_id(&store).unwrap(), id);
//! assert_ne!(store_id(&MemoryStore::new()).unwrap(), id);
//! ```

use super::{Store, StoreError, Table, WriteBatch};

/// Where the store's id is kept, in [`Table::Meta`].
pub const STORE_ID_KEY: &str = "store_id";

/// The store's id (32 lowercase hex digits), generated and written on first use.
///
/// # Errors
/// The store cannot be read or written; [`StoreError::Corrupt`] when the kept id is not text.
pub fn store_id(store: &dyn Store) -> Result<String, StoreError> {
    if let Some(bytes) = store.get(Table::Meta, STORE_ID_KEY)? {
        return String::from_utf8(bytes).map_err(|_| StoreError::Corrupt {
            path: std::path::PathBuf::from(Table::Meta.name()),
            reason: format!("the value of {STORE_ID_KEY:?} is not UTF-8"),
        });
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut batch = WriteBatch::default();
    batch.put(Table::Meta, STORE_ID_KEY, id.clone().into_bytes());
    store.write(batch)?;
    Ok(id)
}
