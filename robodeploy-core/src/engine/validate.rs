//! Requests checked against what the engine knows, at the boundary where they enter.

use crate::model::{DeploymentRequest, Package};
use crate::validate::ValidationContext;

use super::EngineError;
use super::driver::Driver;

impl Driver {
    /// Validates a deployment request against the catalog, the registry and the live
    /// deployments: every rule of `validate`, with all problems reported at once.
    pub(crate) fn check_deployment(
        &self,
        req: &DeploymentRequest,
        package: &Package,
    ) -> Result<(), EngineError> {
        let mut ctx = ValidationContext::new();
        ctx.add_package(package.clone());
        for d in self.devices.list() {
            ctx.add_device(d.clone());
        }
        for d in self.deployments.values() {
            ctx.add_deployment(&d.request);
        }
        ctx.validate_deployment(req).into_result()?;
        Ok(())
    }
}
