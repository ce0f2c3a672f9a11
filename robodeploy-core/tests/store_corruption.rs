//! A damaged store file is reported as `StoreError::Corrupt` naming the file, never reset and
//! never a panic: truncated, overwritten with random bytes, header zeroed, another format, and
//! seeded random byte flips anywhere in the file.

use std::path::{Path, PathBuf};

use robodeploy_core::store::{RedbStore, Store, StoreError, Table, WriteBatch};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rd-corrupt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("state.redb")
}

/// A small deterministic generator (xorshift64*), so every run damages the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const JOBS: usize = 300;

fn record(i: usize) -> Vec<u8> {
    format!("{{\"job\":{i},\"robots\":\"{}\"}}", "r".repeat(i % 200)).into_bytes()
}

/// A healthy store of a few hundred records over several commits, closed; returns its bytes.
fn healthy(path: &Path) -> Vec<u8> {
    let s = RedbStore::open(path).unwrap();
    for chunk in 0..JOBS / 50 {
        let mut b = WriteBatch::default();
        for i in chunk * 50..(chunk + 1) * 50 {
            b.put(Table::Jobs, format!("job-{i:04}"), record(i));
        }
        s.write(b).unwrap();
    }
    drop(s);
    std::fs::read(path).unwrap()
}

fn holds_everything(s: &RedbStore) -> bool {
    let jobs = s.scan(Table::Jobs).unwrap();
    jobs.len() == JOBS
        && jobs
            .iter()
            .enumerate()
            .all(|(i, (k, v))| *k == format!("job-{i:04}") && *v == record(i))
}

/// Opening `path` fails with `Corrupt` naming it, and leaves the file's bytes as they were.
fn assert_corrupt(path: &Path, what: &str) -> String {
    let before = std::fs::read(path).unwrap();
    let reason = match RedbStore::open(path) {
        Err(StoreError::Corrupt { path: p, reason }) => {
            assert_eq!(p, path, "{what}");
            reason
        }
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    };
    let shown = RedbStore::open(path).unwrap_err().to_string();
    assert!(shown.contains(&*path.to_string_lossy()), "{what}: {shown}");
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{what}: the file was modified"
    );
    reason
}

#[test]
fn a_truncated_file_is_corrupt() {
    let path = temp("truncated");
    let bytes = healthy(&path);
    assert!(bytes.len() > 64 * 1024, "{}", bytes.len());
    for len in [bytes.len() - 1, bytes.len() / 2, 8192, 4096, 511, 64, 1, 0] {
        std::fs::write(&path, &bytes[..len]).unwrap();
        let reason = assert_corrupt(&path, &format!("truncated to {len}"));
        if len == 0 {
            assert!(reason.contains("empty"), "{reason}");
        }
    }
    std::fs::write(&path, &bytes).unwrap();
    assert!(holds_everything(&RedbStore::open(&path).unwrap()));
}

#[test]
fn random_bytes_are_corrupt() {
    let path = temp("random");
    let mut rng = Rng(0x5eed_0001);
    for len in [1, 100, 4096, 70_000, 1 << 20] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_corrupt(&path, &format!("{len} random bytes"));
    }
}

#[test]
fn a_zeroed_header_is_corrupt() {
    let path = temp("zeroed");
    let bytes = healthy(&path);
    for zeroed in [16, 512, 4096] {
        let mut damaged = bytes.clone();
        damaged[..zeroed].fill(0);
        std::fs::write(&path, &damaged).unwrap();
        assert_corrupt(&path, &format!("first {zeroed} bytes zeroed"));
    }
}

#[test]
fn a_file_of_another_format_is_corrupt() {
    let path = temp("foreign");
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.extend(std::iter::repeat_n(0u8, 8192));
    let json = br#"{"deployments": [], "jobs": []}"#.to_vec();
    let text = "robot-1 running\n".repeat(1000).into_bytes();
    for (what, bytes) in [("sqlite", sqlite), ("json", json), ("text", text)] {
        std::fs::write(&path, &bytes).unwrap();
        assert_corrupt(&path, what);
    }
}

/// Single bytes changed at seeded random offsets of a healthy file: each open either reports
/// `Corrupt` (leaving the file as it was) or, when the byte was in unused space, opens with every
/// record intact. Never a panic, never a store that silently holds other data.
#[test]
fn seeded_byte_flips_are_detected_or_harmless() {
    let path = temp("flips");
    let bytes = healthy(&path);
    let mut rng = Rng(0x5eed_0002);
    let (mut corrupt, mut harmless) = (0, 0);
    for round in 0..150 {
        let mut damaged = bytes.clone();
        let at = if round % 3 == 0 {
            rng.below(4096) // the header and the first pages
        } else {
            rng.below(damaged.len())
        };
        damaged[at] ^= 1 << rng.below(8);
        std::fs::write(&path, &damaged).unwrap();
        match RedbStore::open(&path) {
            Err(StoreError::Corrupt { path: p, .. }) => {
                assert_eq!(p, path);
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    damaged,
                    "flip at {at} was rewritten"
                );
                corrupt += 1;
            }
            Ok(s) => {
                assert!(holds_everything(&s), "flip at {at}: opened with other data");
                harmless += 1;
            }
            Err(e) => panic!("flip at {at}: expected Corrupt or a clean open, got {e:?}"),
        }
    }
    eprintln!("byte flips: {corrupt} detected, {harmless} in unused space");
    assert!(corrupt > 0, "no flip was detected");
}
