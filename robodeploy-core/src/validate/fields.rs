//! Rules on single fields: names, labels, tags, environment, versions, paths, percentages.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use super::limits::*;
use super::{FieldPath, Findings, ValidationError as E};
use crate::model::{RosDistro, Version};

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS label: 1..=63 of `a-z 0-9 -`, alphanumeric at both ends.
pub(super) fn is_dns_label(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len())
        && s.chars().all(|c| is_alnum_lower(c) || c == '-')
        && s.starts_with(is_alnum_lower)
        && s.ends_with(is_alnum_lower)
}

pub(super) fn name(f: &mut Findings, path: FieldPath, value: &str) {
    if !is_dns_label(value) {
        f.error(E::InvalidName {
            path,
            value: value.to_owned(),
        });
    }
}

fn is_label_word(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    (1..=MAX_LABEL_NAME_LEN).contains(&s.len())
        && s.chars().all(ok)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= MAX_LABEL_PREFIX_LEN
                && prefix.split('.').all(|l| {
                    !l.is_empty()
                        && l.chars().all(|c| is_alnum_lower(c) || c == '-')
                        && l.starts_with(is_alnum_lower)
                        && l.ends_with(is_alnum_lower)
                })
                && is_label_word(name)
        }
        None => is_label_word(key),
    }
}

pub(super) fn labels(f: &mut Findings, path: FieldPath, labels: &BTreeMap<String, String>) {
    if labels.len() > MAX_LABELS {
        f.error(E::TooMany {
            path: path.clone(),
            count: labels.len(),
            max: MAX_LABELS,
        });
    }
    for (k, v) in labels {
        if !is_label_key(k) {
            f.error(E::InvalidLabelKey {
                path: path.key(k),
                key: k.clone(),
            });
        }
        if !v.is_empty() && !is_label_word(v) {
            f.error(E::InvalidLabelValue {
                path: path.key(k),
                value: v.clone(),
            });
        }
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

pub(super) fn tags(f: &mut Findings, path: FieldPath, tags: &BTreeMap<String, String>) {
    if tags.len() > MAX_TAGS {
        f.error(E::TooMany {
            path: path.clone(),
            count: tags.len(),
            max: MAX_TAGS,
        });
    }
    for (k, v) in tags {
        tag_key(f, path.key(k), k);
        if v.chars().count() > MAX_TAG_VALUE_LEN || !v.chars().all(is_tag_char) {
            f.error(E::InvalidTagValue {
                path: path.key(k),
                value: v.clone(),
            });
        }
    }
}

/// RoboMaker's tag key rule: 1..=128 tag characters, not starting with `aws:` (any case).
pub(super) fn tag_key(f: &mut Findings, path: FieldPath, k: &str) {
    let key_len = k.chars().count();
    let reserved = k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"));
    if !(1..=MAX_TAG_KEY_LEN).contains(&key_len) || !k.chars().all(is_tag_char) || reserved {
        f.error(E::InvalidTagKey {
            path,
            key: k.to_owned(),
        });
    }
}

/// RoboMaker's environment variable name rule: `[A-Z_][A-Z0-9_]*`.
pub(super) fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

pub(super) fn env(f: &mut Findings, path: FieldPath, env: &BTreeMap<String, String>) {
    if env.len() > MAX_ENV_VARS {
        f.error(E::TooMany {
            path: path.clone(),
            count: env.len(),
            max: MAX_ENV_VARS,
        });
    }
    for (k, v) in env {
        let at = path.key(k);
        if !is_env_name(k) {
            f.error(E::InvalidEnvName {
                path: at.clone(),
                name: k.clone(),
            });
        } else if k.starts_with("AWS") {
            f.error(E::ReservedEnvName {
                path: at.clone(),
                name: k.clone(),
            });
        }
        let length = v.chars().count();
        if !(1..=MAX_ENV_VALUE_LEN).contains(&length) {
            f.error(E::EnvValueLength { path: at, length });
        }
    }
}

pub(super) fn version(f: &mut Findings, path: FieldPath, v: &Version) {
    if v.is_latest() {
        f.error(E::LatestVersion { path });
    } else if !v.is_numbered() {
        f.error(E::VersionNotNumbered {
            path,
            version: v.clone(),
        });
    }
}

pub(super) fn robomaker_name(f: &mut Findings, path: FieldPath, value: &str) {
    let ok = (1..=MAX_ROBOMAKER_NAME_LEN).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        f.error(E::InvalidRoboMakerName {
            path,
            value: value.to_owned(),
        });
    }
}

fn is_file_path(value: &str) -> bool {
    (1..=MAX_FILE_PATH_LEN).contains(&value.chars().count()) && !value.chars().any(char::is_control)
}

pub(super) fn file(f: &mut Findings, path: FieldPath, value: &str) {
    if !is_file_path(value) {
        f.error(E::InvalidFilePath {
            path,
            value: value.to_owned(),
        });
    }
}

pub(super) fn absolute_path(f: &mut Findings, path: FieldPath, value: &str) {
    if !(value.starts_with('/') && is_file_path(value)) {
        f.error(E::NotAbsolutePath {
            path,
            value: value.to_owned(),
        });
    }
}

/// What a mount source hands the executable if it takes over the host: the root filesystem
/// (`/`, however written: `//`, `/./`, `/etc/..`) or a container engine's socket (a file named
/// `docker.sock`, `containerd.sock` or `podman.sock`, e.g. `/var/run/docker.sock`). Judged on
/// the path as written (no file system access): a symbolic link to `/` is not seen.
pub(crate) fn host_takeover(source: &str) -> Option<&'static str> {
    use std::path::{Component, Path};
    if !source.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in Path::new(source).components() {
        match c {
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    match parts.last().and_then(|p| p.to_str()) {
        None => Some("the host's root filesystem"),
        Some("docker.sock" | "containerd.sock" | "podman.sock") => {
            Some("a container engine's socket")
        }
        Some(_) => None,
    }
}

pub(super) fn percentage(f: &mut Findings, path: FieldPath, value: u8) {
    if !(1..=100).contains(&value) {
        f.error(E::PercentageOutOfRange { path, value });
    }
}

pub(super) fn duration(
    f: &mut Findings,
    path: FieldPath,
    value: Duration,
    min: Duration,
    max: Duration,
) {
    if !(min..=max).contains(&value) {
        f.error(E::DurationOutOfRange {
            path,
            value,
            min,
            max,
        });
    }
}

pub(super) fn digest(f: &mut Findings, path: FieldPath, value: &str) {
    let ok = value.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    });
    if !ok {
        f.error(E::InvalidDigest {
            path,
            value: value.to_owned(),
        });
    }
}

pub(super) fn ros_distro(f: &mut Findings, path: FieldPath, distro: &RosDistro) {
    let s = distro.0.as_str();
    let ok = (1..=MAX_ROS_DISTRO_LEN).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| is_alnum_lower(c) || matches!(c, '_' | '-'));
    if !ok {
        f.error(E::InvalidRosDistro {
            path,
            value: s.to_owned(),
        });
    }
}

pub(super) fn image(f: &mut Findings, path: FieldPath, value: &str) {
    let ok = (1..=MAX_IMAGE_LEN).contains(&value.chars().count())
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        f.error(E::InvalidImage {
            path,
            value: value.to_owned(),
        });
    }
}

/// Reports every repeat of a value among `values` (the `i`-th at `path_of(i)`), pointing at
/// the first occurrence. Paths are built only for repeats: a fleet of a million robots checks
/// its names without a million paths.
pub(super) fn unique<'a>(
    f: &mut Findings,
    values: impl IntoIterator<Item = &'a str>,
    path_of: impl Fn(usize) -> FieldPath,
) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, value) in values.into_iter().enumerate() {
        match first.entry(value) {
            Entry::Occupied(at) => f.error(E::Duplicate {
                path: path_of(i),
                value: value.to_owned(),
                first: path_of(*at.get()).to_string(),
            }),
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
}
