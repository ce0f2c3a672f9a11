//! An executable's [`Limits`] as Docker host-config fields.
//!
//! | limit | container |
//! |---|---|
//! | `cpu` | `NanoCpus` (`"500m"` is 500 000 000) |
//! | `memory` | `Memory` in bytes (no swap limit of its own: Docker's default, twice that) |
//! | `devices` | `Devices`, each with `rwm` permissions |
//! | `hostNetwork` | `NetworkMode` = `host` (through [`InstanceSpec::host_network`]) |
//! | `user` | `User` as written (`robot`, `1000`, `1000:1000`) |
//! | `readOnlyRootFilesystem` | `ReadonlyRootfs` |
//! | `capabilities` | `CapAdd`, as `CAP_<NAME>` |
//! | `privileged` | `Privileged` (an engine refuses it unless its configuration allows it) |
//!
//! The values were validated with the package; they are read again here, and one that does
//! not read is [`RuntimeError::InvalidSpec`] naming its field.

use bollard::models::{DeviceMapping as DockerDevice, HostConfig};
use robodeploy_core::model::{Limits, UserSpec, capability_name};
use robodeploy_core::runtime::{InstanceSpec, RuntimeError};

fn invalid(spec: &InstanceSpec, field: &'static str, value: &str, rule: &str) -> RuntimeError {
    RuntimeError::InvalidSpec {
        field,
        message: format!("{}: {value:?} must be {rule}", spec.name),
    }
}

/// Sets `host` from `spec.limits`; returns the container's `User`, when one is given.
pub(crate) fn apply(
    spec: &InstanceSpec,
    host: &mut HostConfig,
) -> Result<Option<String>, RuntimeError> {
    let l: &Limits = &spec.limits;
    if let Some(cpu) = &l.cpu {
        let millis = cpu
            .cpu_millis()
            .map_err(|rule| invalid(spec, "limits.cpu", &cpu.as_text(), rule))?;
        // At most 1024 CPUs: 1.024e12 nanocpus fits an i64.
        host.nano_cpus = Some(millis as i64 * 1_000_000);
    }
    if let Some(memory) = &l.memory {
        let bytes = memory
            .memory_bytes()
            .map_err(|rule| invalid(spec, "limits.memory", &memory.as_text(), rule))?;
        // At most 1024 GiB: fits an i64.
        host.memory = Some(bytes as i64);
    }
    if !l.devices.is_empty() {
        host.devices = Some(
            l.devices
                .iter()
                .map(|d| DockerDevice {
                    path_on_host: Some(d.host().to_owned()),
                    path_in_container: Some(d.container().to_owned()),
                    cgroup_permissions: Some("rwm".to_owned()),
                })
                .collect(),
        );
    }
    if !l.capabilities.is_empty() {
        let mut add = Vec::with_capacity(l.capabilities.len());
        for c in &l.capabilities {
            let name = capability_name(c).ok_or_else(|| {
                invalid(spec, "limits.capabilities", c, "a Linux capability name")
            })?;
            add.push(format!("CAP_{name}"));
        }
        host.cap_add = Some(add);
    }
    host.readonly_rootfs = Some(l.read_only_root_filesystem);
    host.privileged = Some(l.privileged);
    match &l.user {
        Some(user) => {
            UserSpec::parse(user).map_err(|rule| invalid(spec, "limits.user", user, rule))?;
            Ok(Some(user.clone()))
        }
        None => Ok(None),
    }
}
