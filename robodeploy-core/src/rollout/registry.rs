//! The job list: every job by id, with RoboMaker's expiry (90 days after creation by default):
//! an expired job is no longer listed and is dropped.

use std::collections::BTreeMap;

use super::Rollout;
use crate::model::JobId;
use crate::time::Time;

/// Jobs by id. Expired jobs (now ≥ their [`expires_at`](Rollout::expires_at)) are invisible to
/// [`get`](JobList::get) and [`iter`](JobList::iter) and removed by
/// [`drop_expired`](JobList::drop_expired), whatever their status.
///
/// ```
/// use robodeploy_core::model::{DeploymentConfig, JobId};
/// use robodeploy_core::rollout::{JobList, Rollout, RobotInit};
/// use robodeploy_core::time::Time;
/// use std::time::Duration;
///
/// let robots = [RobotInit { online: true, previous_version: None }];
/// let job = Rollout::new(&DeploymentConfig::default(), robots, Time::EPOCH).unwrap();
/// let mut jobs = JobList::new();
/// jobs.insert(JobId::from_u128(1), job);
/// let ninety_days = Time::EPOCH + Duration::from_secs(90 * 24 * 3600);
/// assert_eq!(jobs.poll_timeout(), Some(ninety_days));
/// assert!(jobs.get(JobId::from_u128(1), Time::from_millis(1)).is_some());
/// assert_eq!(jobs.drop_expired(ninety_days), vec![JobId::from_u128(1)]);
/// assert!(jobs.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct JobList {
    jobs: BTreeMap<JobId, Rollout>,
}

impl JobList {
    /// An empty list.
    pub fn new() -> JobList {
        JobList::default()
    }

    /// Adds (or replaces) a job.
    pub fn insert(&mut self, id: JobId, job: Rollout) -> Option<Rollout> {
        self.jobs.insert(id, job)
    }

    /// A job that has not expired by `now`.
    pub fn get(&self, id: JobId, now: Time) -> Option<&Rollout> {
        self.jobs.get(&id).filter(|j| now < j.expires_at())
    }

    /// A job that has not expired by `now`, to feed events.
    pub fn get_mut(&mut self, id: JobId, now: Time) -> Option<&mut Rollout> {
        self.jobs.get_mut(&id).filter(|j| now < j.expires_at())
    }

    /// Removes a job.
    pub fn remove(&mut self, id: JobId) -> Option<Rollout> {
        self.jobs.remove(&id)
    }

    /// The jobs that have not expired by `now`, by id.
    pub fn iter(&self, now: Time) -> impl Iterator<Item = (JobId, &Rollout)> {
        self.jobs
            .iter()
            .filter(move |(_, j)| now < j.expires_at())
            .map(|(id, j)| (*id, j))
    }

    /// Drops the jobs expired by `now` and returns their ids.
    pub fn drop_expired(&mut self, now: Time) -> Vec<JobId> {
        let expired: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|(_, j)| now >= j.expires_at())
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            self.jobs.remove(id);
        }
        expired
    }

    /// The earliest expiry: when to call [`drop_expired`](JobList::drop_expired) next.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.jobs.values().map(Rollout::expires_at).min()
    }

    /// Jobs held, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Whether no job is held.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}
