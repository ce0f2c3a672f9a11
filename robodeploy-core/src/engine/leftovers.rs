//! Instances a deployment left behind when it ended: those a deprovision could not stop because
//! their robot was offline, and those whose start was still in flight (tried again while the
//! robot did not answer). Each is stopped and removed once it can be: when its robot answers
//! again, or when the start returns it.

use std::collections::HashMap;

use crate::lifecycle::ExecutableIndex;
use crate::model::DeploymentId;
use crate::runtime::InstanceId;

use super::message::RuntimeKey;

/// What ended deployments left behind.
#[derive(Default)]
pub(crate) struct Leftovers {
    /// By device: the deployment each instance belonged to, and the instance.
    on_device: HashMap<String, Vec<(DeploymentId, InstanceId)>>,
    /// Starts in flight when their deployment ended, with the runtime they run on.
    starts: HashMap<(DeploymentId, ExecutableIndex), RuntimeKey>,
}

impl Leftovers {
    /// `instance` of `deployment` still runs on offline `device`.
    pub(crate) fn leave(&mut self, device: &str, deployment: DeploymentId, instance: InstanceId) {
        self.on_device
            .entry(device.to_owned())
            .or_default()
            .push((deployment, instance));
    }

    /// What is left on `device`, now that it answers again.
    pub(crate) fn take_device(&mut self, device: &str) -> Vec<(DeploymentId, InstanceId)> {
        self.on_device.remove(device).unwrap_or_default()
    }

    /// `exe` of `deployment` was being started on `key` when the deployment ended.
    pub(crate) fn start_in_flight(
        &mut self,
        deployment: DeploymentId,
        exe: ExecutableIndex,
        key: RuntimeKey,
    ) {
        self.starts.insert((deployment, exe), key);
    }

    /// The runtime of a start in flight when its deployment ended, once it answers.
    pub(crate) fn take_start(
        &mut self,
        deployment: DeploymentId,
        exe: ExecutableIndex,
    ) -> Option<RuntimeKey> {
        self.starts.remove(&(deployment, exe))
    }
}
