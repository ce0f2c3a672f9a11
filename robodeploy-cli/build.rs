//! Renders the manual page and every shell's completions from the command line itself
//! (`src/cli/args.rs`, compiled here too) into `$OUT_DIR`: `robodeploy.1`, and `robodeploy.SHELL`
//! for each shell clap_complete knows (`robodeploy.bash`, `robodeploy.zsh`, …). `robodeploy man`
//! and `robodeploy completions SHELL` print these files, so what ships is what the build made.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use clap_complete::Shell;

/// The command line, as the binary reads it. The build script renders its help only: the parsed
/// values and the helpers the binary calls are never used here.
#[path = "src/cli/args.rs"]
#[allow(
    dead_code,
    reason = "the build script renders help; only the binary reads parsed values"
)]
mod args;

/// What `args.rs` imports from the crate's `cli` module, at the same path.
mod cli {
    /// Stand-ins for the value parsers of `src/cli/values.rs`, which need the core crate (not a
    /// build dependency: it would be compiled twice). The build script only renders help, which
    /// never parses a value, so these accept any text; their signatures are the binary's.
    pub(crate) mod values {
        use std::time::Duration;

        /// A share from 0 to 1 (any text: see the module docs).
        pub(crate) fn share(_: &str) -> Result<f64, String> {
            Ok(0.0)
        }

        /// `PCT` or `MIN..MAX` (any text: see the module docs).
        pub(crate) fn speed(_: &str) -> Result<(u64, u64), String> {
            Ok((100, 100))
        }

        /// A positive span (any text: see the module docs).
        pub(crate) fn retention(_: &str) -> Result<Duration, String> {
            Ok(Duration::ZERO)
        }

        /// A span (any text: see the module docs).
        pub(crate) fn duration(_: &str) -> Result<Duration, String> {
            Ok(Duration::ZERO)
        }
    }
}

/// Writes the pages into `$OUT_DIR`; a failure fails the build, naming the file.
fn main() -> std::io::Result<()> {
    // What the pages are made of: the command line, and the package's version and description
    // (clap reads them from Cargo.toml through the environment).
    for input in ["build.rs", "src/cli/args.rs", "Cargo.toml"] {
        println!("cargo::rerun-if-changed={input}");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or_else(|| {
        std::io::Error::other("OUT_DIR is not set: the build script runs under cargo")
    })?);
    let mut command = args::Cli::full_command();
    for shell in Shell::value_variants() {
        let mut text = Vec::new();
        clap_complete::generate(*shell, &mut command, "robodeploy", &mut text);
        write(&out.join(format!("robodeploy.{shell}")), &text)?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    write(&out.join("robodeploy.1"), &page)
}

/// Writes `text` to `path`, naming the file when that fails.
fn write(path: &Path, text: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, text)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}
