//! The seed's shared-component rule: a component shared between deployments on one device (the
//! ROS master) keeps the restart policy of the first deployment there.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{DeploymentId, RestartPolicy};

/// The shared components of one device and the policy each keeps.
///
/// The first deployment to register a shared component fixes its policy; later deployments get
/// that policy whatever they asked for. The record lasts while any deployment that registered it
/// remains, so the policy does not change under the deployments still using the component; when
/// the last one is released, the next deployment is "the first" again.
///
/// ```
/// use robodeploy_core::lifecycle::SharedComponents;
/// use robodeploy_core::model::{DeploymentId, RestartPolicy};
/// let (a, b) = (DeploymentId::from_u128(1), DeploymentId::from_u128(2));
/// let mut device = SharedComponents::new();
/// assert_eq!(device.register("rosmaster", a, RestartPolicy::Never), RestartPolicy::Never);
/// assert_eq!(device.register("rosmaster", b, RestartPolicy::Always), RestartPolicy::Never);
/// device.release(a);
/// assert_eq!(device.policy("rosmaster"), Some(RestartPolicy::Never)); // b still uses it
/// device.release(b);
/// assert_eq!(device.policy("rosmaster"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedComponents {
    components: BTreeMap<String, Shared>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Shared {
    policy: RestartPolicy,
    first: DeploymentId,
    users: BTreeSet<DeploymentId>,
}

impl SharedComponents {
    /// A device without shared components.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `deployment` uses the shared `component` and asked for `requested`; returns
    /// the policy in force for it (the first deployment's).
    pub fn register(
        &mut self,
        component: &str,
        deployment: DeploymentId,
        requested: RestartPolicy,
    ) -> RestartPolicy {
        let entry = self
            .components
            .entry(component.to_owned())
            .or_insert_with(|| Shared {
                policy: requested,
                first: deployment,
                users: BTreeSet::new(),
            });
        entry.users.insert(deployment);
        entry.policy
    }

    /// The policy in force for a shared component, if any deployment uses it.
    pub fn policy(&self, component: &str) -> Option<RestartPolicy> {
        self.components.get(component).map(|s| s.policy)
    }

    /// The deployment whose policy a shared component keeps.
    pub fn first_deployment(&self, component: &str) -> Option<DeploymentId> {
        self.components.get(component).map(|s| s.first)
    }

    /// Whether other deployments than `deployment` still use the component (then a deprovision
    /// of `deployment` must leave it running).
    pub fn used_by_others(&self, component: &str, deployment: DeploymentId) -> bool {
        self.components
            .get(component)
            .is_some_and(|s| s.users.iter().any(|u| *u != deployment))
    }

    /// Forgets `deployment` (deprovisioned); components nobody uses any more are dropped.
    pub fn release(&mut self, deployment: DeploymentId) {
        self.components.retain(|_, s| {
            s.users.remove(&deployment);
            !s.users.is_empty()
        });
    }
}
