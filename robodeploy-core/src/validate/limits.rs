//! The documented bounds and character sets validation enforces.
//!
//! | what | rule | source |
//! |---|---|---|
//! | names (package, component, executable, device, fleet, deployment, routed network) | 1..=63 of `a-z 0-9 -`, starting and ending with a letter or digit (a DNS label, as Kubernetes names) | robodeploy: names become container names, labels and file names |
//! | label keys | optional DNS-subdomain prefix (≤ 253) and `/`, then 1..=63 of `A-Z a-z 0-9 - _ .` starting and ending alphanumeric | Kubernetes labels |
//! | label values | empty, or 1..=63 of the same set, starting and ending alphanumeric | Kubernetes labels |
//! | labels per object | ≤ 64 | robodeploy |
//! | tag keys | 1..=128 letters, digits, spaces and `_ . : / = + - @`; `aws:` prefix reserved | RoboMaker (AWS tags) |
//! | tag values | ≤ 256 of the same set | RoboMaker (AWS tags) |
//! | tags per job | ≤ 50 | AWS tags |
//! | environment variable names | `[A-Z_][A-Z0-9_]*`, not beginning with `AWS` | RoboMaker |
//! | environment variable values | 1..=1024 characters | RoboMaker |
//! | environment variables per map | ≤ 128 | robodeploy (a generous bound; Docker and process runtimes pass them on the command line or in the process environment) |
//! | launch config `packageName`, `launchFile` | 1..=1024 of `a-z A-Z 0-9 _ . -` | RoboMaker |
//! | pre/post-launch file, download condition file | 1..=1024 characters, no control characters | RoboMaker |
//! | mount targets, working directories, volume mount paths | absolute, ≤ 1024, no control characters | robodeploy |
//! | percentages | 1..=100 | RoboMaker |
//! | robot deployment timeout, offline deadline | 1 minute ..= 7 days | RoboMaker |
//! | wave soak time | ≤ 7 days | robodeploy |
//! | waves per job | ≤ 100 | robodeploy |
//! | ROS distro | 1..=32 of `a-z 0-9 _ -`, starting with a letter | robodeploy |
//! | container images | 1..=512 characters, no whitespace or control characters | robodeploy |
//! | download condition digest | `sha256:` and 64 lower-case hex digits | robodeploy (RoboMaker's S3 etag lock) |
//! | versions | numbered ([`Version::is_numbered`](crate::model::Version::is_numbered)), never `$LATEST` | RoboMaker |
//!
//! ```
//! use robodeploy_core::validate::limits;
//! assert_eq!(limits::MAX_ENV_VALUE_LEN, 1024);
//! ```

use std::time::Duration;

/// Longest name, in characters (a DNS label).
pub const MAX_NAME_LEN: usize = 63;
/// Longest label key prefix (a DNS subdomain).
pub const MAX_LABEL_PREFIX_LEN: usize = 253;
/// Longest label key name part and label value.
pub const MAX_LABEL_NAME_LEN: usize = 63;
/// Most labels on one object.
pub const MAX_LABELS: usize = 64;
/// Longest tag key.
pub const MAX_TAG_KEY_LEN: usize = 128;
/// Longest tag value.
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// Most tags on one job.
pub const MAX_TAGS: usize = 50;
/// Most environment variables in one map.
pub const MAX_ENV_VARS: usize = 128;
/// Longest environment variable value, in characters.
pub const MAX_ENV_VALUE_LEN: usize = 1024;
/// Longest launch config package name or launch file.
pub const MAX_ROBOMAKER_NAME_LEN: usize = 1024;
/// Longest script or file path.
pub const MAX_FILE_PATH_LEN: usize = 1024;
/// Longest ROS distro name.
pub const MAX_ROS_DISTRO_LEN: usize = 32;
/// Longest image reference.
pub const MAX_IMAGE_LEN: usize = 512;
/// Most waves in one job.
pub const MAX_WAVES: usize = 100;
/// Longest soak time after a wave.
pub const MAX_SOAK: Duration = crate::model::MAX_ROBOT_TIMEOUT;
