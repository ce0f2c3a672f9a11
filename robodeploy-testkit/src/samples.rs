//! The sample manifests bundled under `examples/manifests/`.

use std::path::{Path, PathBuf};

use robodeploy_core::manifest::Format;

/// The directory of the bundled samples.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/manifests")
}

/// Every sample manifest (a YAML or JSON file of [`samples_dir`]), sorted by path.
///
/// # Panics
/// When the directory cannot be read.
pub fn sample_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .expect("the samples directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| Format::from_path(p).is_some())
        .collect();
    files.sort();
    files
}
