//! The device registry: known devices, their online state, and which fit a component.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::model::{Component, Device, Placement};

/// Why a registry operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No device with this name.
    #[error("device {0:?} is not registered")]
    NotFound(String),
    /// A different device with this name is registered.
    #[error("a different device named {0:?} is already registered")]
    Conflict(String),
    /// The device still hosts live deployments.
    #[error("device {device:?} hosts deployment {deployment}")]
    InUse {
        /// Device name.
        device: String,
        /// A deployment on it.
        deployment: String,
    },
}

/// Devices by name (hashed: a fleet of 100,000 is looked up by name on every registration and
/// robot step; listings sort by name).
#[derive(Debug, Default, Clone)]
pub(crate) struct DeviceRegistry {
    devices: HashMap<String, Device>,
}

impl DeviceRegistry {
    /// Registers a device; registering the same device again is a no-op (returns `false`).
    pub(crate) fn add(&mut self, device: Device) -> Result<bool, DeviceError> {
        match self.devices.entry(device.name.clone()) {
            Entry::Occupied(d) if d.get().id == device.id => Ok(false),
            Entry::Occupied(_) => Err(DeviceError::Conflict(device.name)),
            Entry::Vacant(slot) => {
                slot.insert(device);
                Ok(true)
            }
        }
    }

    /// Removes a device; `in_use_by` names a live deployment on it, if any.
    pub(crate) fn remove(
        &mut self,
        name: &str,
        in_use_by: Option<&str>,
    ) -> Result<Device, DeviceError> {
        self.check_remove(name, in_use_by)?;
        self.devices
            .remove(name)
            .ok_or_else(|| DeviceError::NotFound(name.to_owned()))
    }

    /// What [`remove`](Self::remove) would refuse, changing nothing.
    pub(crate) fn check_remove(
        &self,
        name: &str,
        in_use_by: Option<&str>,
    ) -> Result<(), DeviceError> {
        if !self.devices.contains_key(name) {
            return Err(DeviceError::NotFound(name.to_owned()));
        }
        if let Some(d) = in_use_by {
            return Err(DeviceError::InUse {
                device: name.to_owned(),
                deployment: d.to_owned(),
            });
        }
        Ok(())
    }

    /// Makes room for `more` devices at once (a fleet restored at start).
    pub(crate) fn reserve(&mut self, more: usize) {
        self.devices.reserve(more);
    }

    /// One device.
    pub(crate) fn get(&self, name: &str) -> Option<&Device> {
        self.devices.get(name)
    }

    /// Every device, sorted by name.
    pub(crate) fn list(&self) -> Vec<&Device> {
        let mut all: Vec<&Device> = self.devices.values().collect();
        all.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Records whether a device answers; returns whether that changed.
    pub(crate) fn set_online(&mut self, name: &str, online: bool) -> Result<bool, DeviceError> {
        let d = self
            .devices
            .get_mut(name)
            .ok_or_else(|| DeviceError::NotFound(name.to_owned()))?;
        let changed = d.online != online;
        d.online = online;
        Ok(changed)
    }

    /// Records the application version a device now runs (the fleet state later jobs roll back
    /// to).
    pub(crate) fn set_installed(
        &mut self,
        name: &str,
        application: &str,
        version: crate::model::Version,
    ) {
        if let Some(d) = self.devices.get_mut(name) {
            d.installed.insert(application.to_owned(), version);
        }
    }

    /// Forgets that `application` is installed on device `name` (rolled back to nothing).
    pub(crate) fn remove_installed(&mut self, name: &str, application: &str) {
        if let Some(d) = self.devices.get_mut(name) {
            d.installed.remove(application);
        }
    }

    /// The devices a component may be deployed on: online, with the component's architecture and
    /// device runtime (the seed's pre-filtered list), and the component's ROS distro when it is
    /// a ROS component (a mismatch is refused as DEP_E162). Cloud components have none.
    pub(crate) fn eligible<'a>(&'a self, component: &'a Component) -> Vec<&'a Device> {
        let mut fit: Vec<&Device> = self
            .devices
            .values()
            .filter(move |d| match component.placement {
                Placement::Device {
                    runtime,
                    architecture,
                } => {
                    d.online
                        && d.runtime == runtime
                        && d.architecture == architecture
                        && component
                            .ros
                            .as_ref()
                            .is_none_or(|ros| d.ros_distro.as_ref() == Some(&ros.distro))
                }
                _ => false,
            })
            .collect();
        fit.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        fit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Architecture, DeviceRuntime, RestartPolicy};

    #[test]
    fn eligible_filters_by_online_architecture_and_runtime() {
        let mut reg = DeviceRegistry::default();
        reg.add(Device::new("a", Architecture::Amd64, DeviceRuntime::Docker))
            .unwrap();
        reg.add(Device::new(
            "b",
            Architecture::Arm64v8,
            DeviceRuntime::Docker,
        ))
        .unwrap();
        reg.add(Device::new(
            "c",
            Architecture::Amd64,
            DeviceRuntime::Preinstalled,
        ))
        .unwrap();
        reg.add(Device::new("d", Architecture::Amd64, DeviceRuntime::Docker))
            .unwrap();
        reg.set_online("d", false).unwrap();
        let comp = Component {
            name: "x".into(),
            placement: Placement::Device {
                runtime: DeviceRuntime::Docker,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(RestartPolicy::Always),
            shared: false,
            executables: vec![],
        };
        let names: Vec<_> = reg
            .eligible(&comp)
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(names, ["a"]);
    }
}
