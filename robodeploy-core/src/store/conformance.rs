//! Behaviour every [`Store`] shares, run against each implementation by its tests.

use super::{Store, Table, WriteBatch};

fn keys(entries: Vec<(String, Vec<u8>)>) -> Vec<String> {
    entries.into_iter().map(|(k, _)| k).collect()
}

/// `scan_prefix` and `WriteBatch::delete_prefix`: exact prefix bounds, one table only, batch order.
pub(crate) fn prefix_operations(store: &dyn Store) {
    let mut b = WriteBatch::default();
    for k in [
        "job-1",
        "job-1/r1",
        "job-1/r2",
        "job-10/r1",
        "job-2/r1",
        "job-1\u{10FFFF}",
    ] {
        b.put(Table::Jobs, k, k.as_bytes().to_vec());
    }
    b.put(Table::Devices, "job-1/x", vec![7]);
    store.write(b).unwrap();

    assert_eq!(
        store.scan_prefix(Table::Jobs, "job-1/").unwrap(),
        vec![
            ("job-1/r1".to_owned(), b"job-1/r1".to_vec()),
            ("job-1/r2".to_owned(), b"job-1/r2".to_vec()),
        ]
    );
    assert_eq!(
        keys(store.scan_prefix(Table::Jobs, "job-1").unwrap()),
        [
            "job-1",
            "job-1/r1",
            "job-1/r2",
            "job-10/r1",
            "job-1\u{10FFFF}"
        ]
    );
    assert_eq!(
        keys(store.scan_prefix(Table::Jobs, "").unwrap()),
        keys(store.scan(Table::Jobs).unwrap())
    );
    assert_eq!(store.scan(Table::Jobs).unwrap().len(), 6);
    assert!(store.scan_prefix(Table::Jobs, "job-3").unwrap().is_empty());
    assert!(store.scan_prefix(Table::Tokens, "job").unwrap().is_empty());

    // In batch order: a put before the prefix delete goes, a put after it stays.
    let mut d = WriteBatch::default();
    d.put(Table::Jobs, "job-1/r3", vec![3])
        .put(Table::Jobs, "job-3/a", vec![4])
        .delete_prefix(Table::Jobs, "job-1/")
        .put(Table::Jobs, "job-1/r9", vec![9]);
    store.write(d).unwrap();
    assert_eq!(
        keys(store.scan(Table::Jobs).unwrap()),
        [
            "job-1",
            "job-1/r9",
            "job-10/r1",
            "job-1\u{10FFFF}",
            "job-2/r1",
            "job-3/a"
        ]
    );
    assert_eq!(store.get(Table::Devices, "job-1/x").unwrap(), Some(vec![7]));

    // The empty prefix empties one table and leaves the others.
    let mut all = WriteBatch::default();
    all.delete_prefix(Table::Jobs, "");
    store.write(all).unwrap();
    assert!(store.scan(Table::Jobs).unwrap().is_empty());
    assert_eq!(store.scan(Table::Devices).unwrap().len(), 1);
}
