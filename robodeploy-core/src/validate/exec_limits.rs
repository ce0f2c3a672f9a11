//! Rules of an executable's [`Limits`]: CPU and memory quantities, device paths, the user,
//! capability names, and which settings only a container can apply.

use std::path::{Component, Path};

use super::{FieldPath, Findings, ValidationError as E, ValidationWarning as W};
use crate::model::{DeviceMapping, Limits, UserSpec, capability_name};

/// The rule a device's host path follows.
const HOST_DEVICE_RULE: &str = "an absolute path under /dev (e.g. /dev/video0, /dev/ttyUSB0), without '..' or control characters";
/// The rule a device's container path follows.
const CONTAINER_DEVICE_RULE: &str = "an absolute path (e.g. /dev/video0), at most 1024 characters, without '..' or control characters";

/// Absolute, at most 1024 bytes, no control characters, no `..`; and under `/dev` with
/// `under_dev`.
fn device_path_ok(p: &str, under_dev: bool) -> bool {
    if !p.starts_with('/') || p.len() > 1024 || p.chars().any(char::is_control) {
        return false;
    }
    let mut normal = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(part) => normal.push(part),
            Component::ParentDir => return false,
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if under_dev {
        normal.len() >= 2 && normal[0] == "dev"
    } else {
        !normal.is_empty()
    }
}

/// Checks `limits` at `path`; `container` says whether the executable is a container (docker
/// or cloud) rather than a process (preinstalled).
pub(super) fn limits(f: &mut Findings, path: FieldPath, limits: &Limits, container: bool) {
    if let Some(cpu) = &limits.cpu
        && let Err(rule) = cpu.cpu_millis()
    {
        f.error(E::InvalidCpuLimit {
            path: path.field("cpu"),
            value: cpu.as_text(),
            rule,
        });
    }
    if let Some(memory) = &limits.memory
        && let Err(rule) = memory.memory_bytes()
    {
        f.error(E::InvalidMemoryLimit {
            path: path.field("memory"),
            value: memory.as_text(),
            rule,
        });
    }
    for (i, d) in limits.devices.iter().enumerate() {
        let at = path.field("devices").index(i);
        let (host_at, container_at) = match d {
            DeviceMapping::Path(_) => (at.clone(), None),
            DeviceMapping::Mapped { container, .. } => (
                at.field("host"),
                container.as_ref().map(|_| at.field("container")),
            ),
        };
        if !device_path_ok(d.host(), true) {
            f.error(E::InvalidDevicePath {
                path: host_at,
                value: d.host().to_owned(),
                rule: HOST_DEVICE_RULE,
            });
        }
        if let Some(container_at) = container_at
            && !device_path_ok(d.container(), false)
        {
            f.error(E::InvalidDevicePath {
                path: container_at,
                value: d.container().to_owned(),
                rule: CONTAINER_DEVICE_RULE,
            });
        }
    }
    if let Some(user) = &limits.user
        && let Err(rule) = UserSpec::parse(user)
    {
        f.error(E::InvalidUser {
            path: path.field("user"),
            value: user.clone(),
            rule,
        });
    }
    for (i, c) in limits.capabilities.iter().enumerate() {
        if capability_name(c).is_none() {
            f.error(E::UnknownCapability {
                path: path.field("capabilities").index(i),
                value: c.clone(),
            });
        }
    }
    if container {
        if limits.privileged {
            f.warn(W::Privileged {
                path: path.field("privileged"),
            });
        }
    } else {
        for field in limits.container_only() {
            f.error(E::ContainerOnlyLimit {
                path: path.field(field),
                field,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::device_path_ok;

    #[test]
    fn devices_live_under_dev() {
        for ok in ["/dev/video0", "/dev/serial/by-id/usb-1", "//dev/./ttyUSB0"] {
            assert!(device_path_ok(ok, true), "{ok}");
        }
        for bad in [
            "/dev",
            "/dev/",
            "/etc/passwd",
            "dev/video0",
            "/dev/../etc",
            "/dev/a\n",
            "",
        ] {
            assert!(!device_path_ok(bad, true), "{bad:?}");
        }
        assert!(device_path_ok("/opt/cam", false));
        assert!(!device_path_ok("/", false));
    }
}
