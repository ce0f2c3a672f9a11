//! Loads and validates one manifest file, as `robodeploy validate` does, and says how many
//! documents and robots it holds: the program `benches/scripts/yaml_million.sh` times.
//!
//! ```text
//! cargo run --release -p robodeploy-core --example load_manifest -- FILE
//! ```

use robodeploy_core::manifest::Manifest;
use robodeploy_core::validate::validate_manifest;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: load_manifest FILE");
        std::process::exit(2);
    };
    let manifest = match Manifest::load(&path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let report = validate_manifest(&manifest);
    let robots: usize = manifest.fleets().map(|f| f.robots.len()).sum();
    println!(
        "{} documents, {robots} robots, {} errors, {} warnings",
        manifest.len(),
        report.errors.len(),
        report.warnings.len()
    );
    std::process::exit(i32::from(!report.errors.is_empty()));
}
