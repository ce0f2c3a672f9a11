//! Deployments that ended: their last statuses stay in the store for
//! [`EngineConfig::deployment_retention`](super::EngineConfig::deployment_retention) after they
//! ended, then they are deleted with the request tokens that named them.
//!
//! The engine keeps, in memory, only when each one ended (a time and an id each), so that a
//! pass finds the expired ones without reading the store. The time is written beside the status
//! (`id/ended`) and read back at start: a restart does not reset anyone's clock.

use std::collections::HashSet;

use crate::model::DeploymentId;
use crate::store::{Table, WriteBatch};
use crate::time::Time;

use super::persist;
use super::state::{State, TokenTarget};

impl State {
    /// Records that deployment `id` ended at `at`: written with the turn, and kept for the
    /// retention pass.
    pub(crate) fn record_ended(&mut self, id: DeploymentId, at: Time) {
        self.writes.put(
            Table::Deployments,
            persist::ended_key(id),
            persist::ended_value(at),
        );
        self.ended.insert((at, id));
    }

    /// Deletes the last statuses of the deployments that ended more than the retention ago,
    /// their `ended` rows, and the request tokens that named them (the same token creates a new
    /// deployment afterwards). Written in one transaction with the turn.
    pub(crate) fn drop_expired_deployments(&mut self) {
        let now = self.now();
        let retention = self.config.deployment_retention;
        let mut expired = HashSet::new();
        while let Some(&(at, id)) = self.ended.first() {
            if at.saturating_add(retention) > now {
                break;
            }
            self.ended.pop_first();
            expired.insert(id);
        }
        if expired.is_empty() {
            return;
        }
        let mut b = WriteBatch::default();
        for id in &expired {
            b.delete(Table::Deployments, persist::final_key(*id));
            b.delete(Table::Deployments, persist::ended_key(*id));
        }
        self.tokens.retain(|token, target| {
            let gone = matches!(target, TokenTarget::Deployment(d) if expired.contains(d));
            if gone {
                b.delete(Table::Tokens, token.clone());
            }
            !gone
        });
        self.persist(b);
    }
}
