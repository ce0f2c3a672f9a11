//! The status board: each live deployment's status as its last settled turn left it, written
//! by the driver and read by [`Engine::status`](super::Engine::status) without a round trip to
//! the driver's task (a status call then costs a read lock, not two thread wake-ups).
//!
//! It answers exactly as the driver would: the driver writes a deployment's status whenever
//! what a status shows changes (phase, status, errors, restart counts, instances), and answers
//! an API request only after the turn it started has settled, so a caller that hears back from
//! `deploy` or `deprovision` reads its own write here. Deployments the board does not hold (not
//! created yet, waiting for their runtimes after a restart, retired) are asked of the driver.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::model::DeploymentId;

use super::DeploymentStatus;
use super::clock::Clock;

/// Live deployments' settled statuses.
pub(crate) struct StatusBoard {
    /// The driver's clock: a status read here is stamped as the driver would stamp it.
    clock: Clock,
    statuses: RwLock<HashMap<DeploymentId, DeploymentStatus>>,
}

impl StatusBoard {
    /// An empty board on the driver's clock.
    pub(crate) fn new(clock: Clock) -> Self {
        StatusBoard {
            clock,
            statuses: RwLock::default(),
        }
    }

    /// Writes a deployment's settled status.
    pub(crate) fn put(&self, status: DeploymentStatus) {
        if let Ok(mut board) = self.statuses.write() {
            board.insert(status.id, status);
        }
    }

    /// Takes a deployment off the board (it retired: the driver answers from the store).
    pub(crate) fn remove(&self, id: DeploymentId) {
        if let Ok(mut board) = self.statuses.write() {
            board.remove(&id);
        }
    }

    /// A deployment's status as of now, if the board holds it.
    pub(crate) fn get(&self, id: DeploymentId) -> Option<DeploymentStatus> {
        let board = self.statuses.read().ok()?;
        let mut status = board.get(&id)?.clone();
        status.at = self.clock.now();
        Some(status)
    }
}
