//! A job's tags after creation: read, add or overwrite, remove (RoboMaker's TagResource and
//! UntagResource on a deployment job). Tags are checked by the job's tag rules here; the
//! driver writes them to the job's stored record before they change in memory
//! ([`State::commit_tags`]), so they survive a restart and a refused write changes nothing.

use std::collections::BTreeMap;

use crate::model::JobId;

use super::EngineError;
use super::state::State;
use super::validate::{check_tag_keys, check_tags};

impl State {
    /// A job's tags.
    pub(crate) fn job_tags(&self, id: JobId) -> Result<BTreeMap<String, String>, EngineError> {
        self.jobs
            .get(&id)
            .map(|j| j.request.tags.clone())
            .ok_or(EngineError::NoSuchJob(id))
    }

    /// A job's tags with `tags` added, overwriting the values of keys it has; `None` when
    /// nothing would change.
    pub(crate) fn tagged(
        &self,
        id: JobId,
        tags: BTreeMap<String, String>,
    ) -> Result<Option<BTreeMap<String, String>>, EngineError> {
        let before = self.job_tags(id)?;
        let mut merged = before.clone();
        merged.extend(tags);
        check_tags(&merged)?;
        Ok((merged != before).then_some(merged))
    }

    /// A job's tags without these keys (keys it does not have are ignored); `None` when
    /// nothing would change.
    pub(crate) fn untagged(
        &self,
        id: JobId,
        keys: &[String],
    ) -> Result<Option<BTreeMap<String, String>>, EngineError> {
        let before = self.job_tags(id)?;
        check_tag_keys(keys)?;
        let mut left = before.clone();
        for k in keys {
            left.remove(k);
        }
        Ok((left != before).then_some(left))
    }

    /// Keeps a job's new tags, once they are written.
    pub(crate) fn commit_tags(&mut self, id: JobId, tags: BTreeMap<String, String>) {
        if let Some(job) = self.jobs.get_mut(&id) {
            std::sync::Arc::make_mut(&mut job.request).tags = tags;
        }
    }
}
