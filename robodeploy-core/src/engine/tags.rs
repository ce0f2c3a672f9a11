//! A job's tags after creation: read, add or overwrite, remove (RoboMaker's TagResource and
//! UntagResource on a deployment job). Tags are validated by the job's tag rules and written to
//! the job's stored record before they change in memory, so they survive a restart.

use std::collections::BTreeMap;

use crate::model::JobId;
use crate::store::{StoreError, Table, WriteBatch};

use super::EngineError;
use super::driver::Driver;
use super::persist::{self, StoredJob};
use super::validate::{check_tag_keys, check_tags};

impl Driver {
    /// A job's tags.
    pub(crate) fn job_tags(&self, id: JobId) -> Result<BTreeMap<String, String>, EngineError> {
        self.jobs
            .get(&id)
            .map(|j| j.request.tags.clone())
            .ok_or(EngineError::NoSuchJob(id))
    }

    /// Adds `tags` to a job's, overwriting the values of keys it has.
    pub(crate) fn tag_job(
        &mut self,
        id: JobId,
        tags: BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        let mut merged = self.job_tags(id)?;
        merged.extend(tags);
        check_tags(&merged)?;
        self.set_job_tags(id, merged)
    }

    /// Removes these keys from a job's tags; keys it does not have are ignored.
    pub(crate) fn untag_job(&mut self, id: JobId, keys: Vec<String>) -> Result<(), EngineError> {
        let mut left = self.job_tags(id)?;
        check_tag_keys(&keys)?;
        for k in &keys {
            left.remove(k);
        }
        self.set_job_tags(id, left)
    }

    /// Writes the job's record with these tags, then keeps them: nothing changes when the store
    /// refuses.
    fn set_job_tags(
        &mut self,
        id: JobId,
        tags: BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        if self.job_tags(id)? == tags {
            return Ok(());
        }
        let key = persist::job_key(id);
        let bytes = self
            .store
            .get(Table::Jobs, &key)?
            .ok_or(EngineError::NoSuchJob(id))?;
        let mut stored: StoredJob =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Decode {
                table: Table::Jobs,
                key: key.clone(),
                source,
            })?;
        stored.request.tags = tags.clone();
        let mut batch = WriteBatch::default();
        batch.put(Table::Jobs, key, persist::to_json(&stored));
        self.store.write(batch)?;
        if let Some(job) = self.jobs.get_mut(&id) {
            job.request.tags = tags;
        }
        Ok(())
    }
}
