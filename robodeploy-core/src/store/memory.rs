//! The in-memory store: for tests, the simulator, and engines that need no durability.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Store, StoreError, Table, Write, WriteBatch, prefix_end};

type Tables = BTreeMap<(Table, String), Vec<u8>>;

/// The entries of `table` whose key starts with `prefix`, as a map range.
fn prefixed<'a>(
    tables: &'a Tables,
    table: Table,
    prefix: &str,
) -> impl Iterator<Item = (&'a (Table, String), &'a Vec<u8>)> + 'a {
    let start = (table, prefix.to_owned());
    let end = prefix_end(prefix);
    tables
        .range(start..)
        .take_while(move |((t, k), _)| *t == table && end.as_deref().is_none_or(|e| k.as_str() < e))
}

/// A [`Store`] in memory. Batches are atomic (applied under one lock); nothing survives the
/// process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied batch (batches are applied
        // to a copy first), so a poisoned lock still guards consistent data.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        // Nothing below can fail, so applying in place under the lock is all-or-nothing (and
        // a write costs what it changes, not the size of the store).
        let mut next = self.lock();
        for w in batch.writes {
            match w {
                Write::Put { table, key, value } => {
                    next.insert((table, key), value);
                }
                Write::Delete { table, key } => {
                    next.remove(&(table, key));
                }
                Write::DeletePrefix { table, prefix } => {
                    let doomed: Vec<_> = prefixed(&next, table, &prefix)
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in doomed {
                        next.remove(&k);
                    }
                }
            }
        }
        Ok(())
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(&(table, key.to_owned())).cloned())
    }

    fn scan_prefix(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(prefixed(&self.lock(), table, prefix)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_returns_one_table_in_key_order() {
        let s = MemoryStore::new();
        let mut b = WriteBatch::default();
        b.put(Table::Jobs, "b", vec![2])
            .put(Table::Jobs, "a", vec![1])
            .put(Table::Devices, "x", vec![9])
            .put(Table::Tokens, "t", vec![3]);
        s.write(b).unwrap();
        assert_eq!(
            s.scan(Table::Jobs).unwrap(),
            vec![("a".to_owned(), vec![1]), ("b".to_owned(), vec![2])]
        );
        let mut d = WriteBatch::default();
        d.delete(Table::Jobs, "a").delete(Table::Jobs, "missing");
        s.write(d).unwrap();
        assert_eq!(s.scan(Table::Jobs).unwrap().len(), 1);
        assert_eq!(s.get(Table::Devices, "x").unwrap(), Some(vec![9]));
    }

    #[test]
    fn prefix_operations() {
        crate::store::conformance::prefix_operations(&MemoryStore::new());
    }
}
