//! What an executable may use of its host: CPU and memory limits, devices, the host's network, the
//! user it runs as, a read-only root filesystem, extra Linux capabilities and `privileged`.
//!
//! Set per executable (each executable is one container or one process, the unit a limit
//! applies to), under `limits:`. A process (an executable of a preinstalled component) takes
//! `memory` (as its address-space limit), `user` and `hostNetwork` (which it has anyway);
//! validation refuses the others there (`ContainerOnlyLimit`). Everything is off unless written: no limit, no device, the
//! container's own network, the image's (or the caller's) user, a writable root, no extra
//! capability, unprivileged.
//!
//! # Units
//!
//! | field | written as | meaning |
//! |---|---|---|
//! | `cpu` | `0.5`, `2`, `"1.5"`, `"500m"` | CPUs (as Kubernetes): `"500m"` is 500 millicores, half a CPU; 1m ..= 1024 CPUs |
//! | `memory` | `536870912`, `"512Mi"`, `"2Gi"`, `"500M"` | bytes, with `Ki Mi Gi Ti` (powers of 1024) or `k M G T` (powers of 1000); 6Mi (Docker's floor) ..= 1024Gi |
//! | `devices` | `"/dev/video0"` or `{host: /dev/ttyUSB0, container: /dev/ttyACM0}` | a host device under `/dev`, at the same path or at `container` |
//! | `user` | `"robot"`, `"1000"`, `"1000:1000"` | a user name, or a uid with an optional gid |
//! | `capabilities` | `["SYS_NICE", "CAP_NET_ADMIN"]` | Linux capability names, with or without `CAP_` |
//!
//! ```
//! use robodeploy_core::model::Limits;
//! let l: Limits = serde_saphyr::from_str("cpu: 500m\nmemory: 512Mi\n").unwrap();
//! assert_eq!(l.cpu.as_ref().unwrap().cpu_millis(), Ok(500));
//! assert_eq!(l.memory.as_ref().unwrap().memory_bytes(), Ok(512 << 20));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// A CPU or memory amount as written: a number, or a string with an optional unit suffix.
/// [`Quantity::cpu_millis`] and [`Quantity::memory_bytes`] read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Quantity {
    /// A bare number (`0.5` CPUs, `536870912` bytes).
    Number(serde_json::Number),
    /// A string (`"500m"`, `"512Mi"`).
    Text(String),
}

/// The smallest memory limit: Docker refuses less than 6 MiB.
pub const MIN_MEMORY_BYTES: u64 = 6 << 20;
/// The largest memory limit (1024 GiB).
pub const MAX_MEMORY_BYTES: u64 = 1 << 40;
/// The largest CPU limit in millicores (1024 CPUs).
pub const MAX_CPU_MILLIS: u64 = 1024 * 1000;

/// The rule a CPU quantity must follow, as messages state it.
pub const CPU_RULE: &str =
    "a number of CPUs (0.5, 2, \"1.5\") or of millicores (\"500m\"), from 1m to 1024 CPUs";
/// The rule a memory quantity must follow, as messages state it.
pub const MEMORY_RULE: &str = "a number of bytes, optionally with Ki, Mi, Gi, Ti (powers of 1024) or k, M, G, T (powers of 1000), from 6Mi to 1024Gi";

/// Splits `"1.25"` into an exact count of `1/scale`ths (`scale` a power of ten), refusing signs,
/// exponents, more decimals than `scale` holds and overflow.
fn decimal_scaled(s: &str, scale: u64) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let places = scale.checked_ilog10()? as usize;
    let frac = frac.trim_end_matches('0');
    if frac.len() > places {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut part: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..places {
        part = part.checked_mul(10)?;
    }
    whole.checked_mul(scale)?.checked_add(part)
}

impl Quantity {
    /// The text of the quantity as written (a number in its JSON form).
    pub fn as_text(&self) -> String {
        match self {
            Quantity::Number(n) => n.to_string(),
            Quantity::Text(s) => s.clone(),
        }
    }

    /// CPUs in millicores (`0.5` and `"500m"` are 500), or the rule it breaks ([`CPU_RULE`]):
    /// not a number, negative, zero, finer than a millicore, or more than 1024 CPUs.
    pub fn cpu_millis(&self) -> Result<u64, &'static str> {
        let text = self.as_text();
        let millis = match text.strip_suffix('m') {
            Some(m) if !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()) => m.parse().ok(),
            Some(_) => None,
            None => decimal_scaled(&text, 1000),
        };
        match millis {
            Some(m) if (1..=MAX_CPU_MILLIS).contains(&m) => Ok(m),
            _ => Err(CPU_RULE),
        }
    }

    /// Bytes (`"512Mi"` is 536870912), or the rule it breaks ([`MEMORY_RULE`]): not a whole
    /// number of bytes, an unknown suffix, below 6Mi or above 1024Gi.
    pub fn memory_bytes(&self) -> Result<u64, &'static str> {
        let text = self.as_text();
        let split = text
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let factor: u64 = match suffix {
            "" => 1,
            "k" => 1000,
            "M" => 1000_u64.pow(2),
            "G" => 1000_u64.pow(3),
            "T" => 1000_u64.pow(4),
            "Ki" => 1 << 10,
            "Mi" => 1 << 20,
            "Gi" => 1 << 30,
            "Ti" => 1 << 40,
            _ => return Err(MEMORY_RULE),
        };
        // Fractions (`"1.5Gi"`) are read to a millionth and must come to whole bytes.
        let micro = decimal_scaled(number, 1_000_000).ok_or(MEMORY_RULE)?;
        let scaled = u128::from(micro) * u128::from(factor);
        if scaled % 1_000_000 != 0 {
            return Err(MEMORY_RULE);
        }
        match u64::try_from(scaled / 1_000_000) {
            Ok(b) if (MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&b) => Ok(b),
            _ => Err(MEMORY_RULE),
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

/// A host device handed to a container: a path, or a host path and where it appears inside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum DeviceMapping {
    /// The host device at the same path inside (`/dev/video0`).
    Path(String),
    /// A host device at another path inside.
    Mapped {
        /// The host device, under `/dev`.
        host: String,
        /// Where it appears inside (absolute); the host path when not given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container: Option<String>,
    },
}

impl DeviceMapping {
    /// The host device's path.
    pub fn host(&self) -> &str {
        match self {
            DeviceMapping::Path(p) => p,
            DeviceMapping::Mapped { host, .. } => host,
        }
    }

    /// Where it appears inside the container.
    pub fn container(&self) -> &str {
        match self {
            DeviceMapping::Path(p) => p,
            DeviceMapping::Mapped { host, container } => container.as_deref().unwrap_or(host),
        }
    }
}

/// What an executable may use of its host. Units: `cpu` as CPUs (`0.5`) or millicores (`"500m"`),
/// `memory` as bytes with `Ki Mi Gi Ti` or `k M G T` (`"512Mi"`), `user` as a name, uid or uid:gid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// CPU limit: `0.5`, `"500m"`, `2`. Containers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory limit: `"512Mi"`, `"2Gi"`, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
    /// Host devices (cameras, serial ports) handed to the container. Containers only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceMapping>,
    /// Share the host's network (ROS 1 and DDS discovery usually want it). Containers only: a
    /// process always has its host's network.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    /// Run as this user: a name, a uid, or `uid:gid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Mount the container's root filesystem read-only. Containers only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only_root_filesystem: bool,
    /// Linux capabilities added to the container's default set (`SYS_NICE`, `NET_ADMIN`).
    /// Containers only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// Run the container privileged (every device and capability of the host). Refused by an
    /// engine unless its configuration allows it. Containers only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
}

impl Limits {
    /// Whether nothing is set (the default).
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// The fields set here that only a container can apply (`cpu`, `devices`,
    /// `readOnlyRootFilesystem`, `capabilities`, `privileged`), by their manifest names. A
    /// process runtime applies `memory` and `user` only: a CPU share needs a cgroup, which it
    /// does not manage (`RLIMIT_CPU` caps CPU time, not a share).
    pub fn container_only(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.cpu.is_some() {
            set.push("cpu");
        }
        if !self.devices.is_empty() {
            set.push("devices");
        }
        if self.read_only_root_filesystem {
            set.push("readOnlyRootFilesystem");
        }
        if !self.capabilities.is_empty() {
            set.push("capabilities");
        }
        if self.privileged {
            set.push("privileged");
        }
        set
    }
}

/// The Linux capabilities (without `CAP_`) a manifest may add, as of Linux 6.x.
pub const CAPABILITIES: &[&str] = &[
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// The capability's name without `CAP_` when it is one of [`CAPABILITIES`] (upper case, with
/// or without the prefix).
pub fn capability_name(written: &str) -> Option<&'static str> {
    let bare = written.strip_prefix("CAP_").unwrap_or(written);
    CAPABILITIES.iter().copied().find(|c| *c == bare)
}

/// A user as the manifest may write it: a name, a uid, or a uid and a gid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSpec {
    /// A user name (`[a-z_][a-z0-9_-]*`, at most 32 characters).
    Name(String),
    /// A numeric uid, and a gid when given.
    Id {
        /// The uid.
        uid: u32,
        /// The gid, when given.
        gid: Option<u32>,
    },
}

/// The rule a user must follow, as messages state it.
pub const USER_RULE: &str =
    "a user name (1..=32 of a-z, 0-9, '_', '-', starting with a letter or '_'), a uid, or uid:gid";

impl UserSpec {
    /// Reads `robot`, `1000` or `1000:1000`; the rule ([`USER_RULE`]) otherwise.
    pub fn parse(s: &str) -> Result<UserSpec, &'static str> {
        let id = |p: &str| {
            if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) {
                p.parse::<u32>().ok()
            } else {
                None
            }
        };
        if let Some((u, g)) = s.split_once(':') {
            return match (id(u), id(g)) {
                (Some(uid), Some(gid)) => Ok(UserSpec::Id {
                    uid,
                    gid: Some(gid),
                }),
                _ => Err(USER_RULE),
            };
        }
        if let Some(uid) = id(s) {
            return Ok(UserSpec::Id { uid, gid: None });
        }
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        if (1..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && s.chars().all(ok)
        {
            Ok(UserSpec::Name(s.to_owned()))
        } else {
            Err(USER_RULE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Quantity {
        Quantity::Text(s.into())
    }

    fn num(s: &str) -> Quantity {
        Quantity::Number(serde_json::from_str(s).unwrap())
    }

    #[test]
    fn cpus_read_as_kubernetes_writes_them() {
        assert_eq!(text("500m").cpu_millis(), Ok(500));
        assert_eq!(num("0.5").cpu_millis(), Ok(500));
        assert_eq!(num("2").cpu_millis(), Ok(2000));
        assert_eq!(text("1.25").cpu_millis(), Ok(1250));
        assert_eq!(text(".1").cpu_millis(), Ok(100));
        for bad in [
            "0", "0m", "-1", "1.0001", "m", "1e3", "", "2 cpus", "1025", " 1",
        ] {
            assert_eq!(text(bad).cpu_millis(), Err(CPU_RULE), "{bad}");
        }
        assert_eq!(num("-1").cpu_millis(), Err(CPU_RULE));
        assert_eq!(num("0").cpu_millis(), Err(CPU_RULE));
    }

    #[test]
    fn memory_reads_binary_and_decimal_suffixes() {
        assert_eq!(text("512Mi").memory_bytes(), Ok(512 << 20));
        assert_eq!(text("1.5Gi").memory_bytes(), Ok(3 << 29));
        assert_eq!(text("500M").memory_bytes(), Ok(500_000_000));
        assert_eq!(num("8388608").memory_bytes(), Ok(8 << 20));
        assert_eq!(text("1024Gi").memory_bytes(), Ok(MAX_MEMORY_BYTES));
        for bad in [
            "0",
            "5Mi",
            "1Mb",
            "512mi",
            "-1Gi",
            "1025Gi",
            "Gi",
            "1.0000001Gi",
            "",
        ] {
            assert_eq!(text(bad).memory_bytes(), Err(MEMORY_RULE), "{bad}");
        }
        assert_eq!(num("0").memory_bytes(), Err(MEMORY_RULE));
        assert_eq!(num("1e9").memory_bytes(), Ok(1_000_000_000));
        assert_eq!(num("10000000.5").memory_bytes(), Err(MEMORY_RULE));
    }

    #[test]
    fn users_are_names_or_ids() {
        assert_eq!(UserSpec::parse("robot"), Ok(UserSpec::Name("robot".into())));
        assert_eq!(
            UserSpec::parse("1000:20"),
            Ok(UserSpec::Id {
                uid: 1000,
                gid: Some(20)
            })
        );
        assert_eq!(UserSpec::parse("0"), Ok(UserSpec::Id { uid: 0, gid: None }));
        for bad in [
            "",
            "Robot",
            "1000:",
            ":1",
            "robot:1",
            "9999999999",
            "a b",
            "1-2",
        ] {
            assert_eq!(UserSpec::parse(bad), Err(USER_RULE), "{bad}");
        }
    }

    #[test]
    fn capabilities_with_or_without_the_prefix() {
        assert_eq!(capability_name("CAP_SYS_NICE"), Some("SYS_NICE"));
        assert_eq!(capability_name("NET_ADMIN"), Some("NET_ADMIN"));
        assert_eq!(capability_name("net_admin"), None);
        assert_eq!(capability_name("ALL"), None);
    }
}
