//! A job's journal: every input the engine fed its [`Rollout`], in order, with its time.
//!
//! The rollout machine is deterministic, so replaying the journal into a machine built from the
//! same request and fleet gives back the same machine: every robot's status, step, failure, the
//! waves, the failure count and the rollback state. That is how a restarted engine carries a
//! job on ([`replay`]). The engine feeds the machine only through [`Journaled::apply`], which
//! hands the pair to [`Rollout::handle`] exactly as the simulator does, so what it journals is
//! exactly what it fed; it writes the entries of a round before it acts on the commands they
//! produced.
//!
//! Stored as JSON, one array of [`JournalEntry`] per chunk:
//! `{"at":"2026-12-03T08:00:00Z","input":{"input":"robotFailed","robot":3,"code":"PreLaunchFileFailure"},"detail":"pre.sh exited with 1: …"}`.
//! Schema 1 stored compact positional ops (`{"f":[ms,robot,code,detail]}`);
//! [`upgrade_v1_chunk`] rewrites them (store schema migration 1 → 2).

use serde::{Deserialize, Serialize};

use crate::model::{FailureCode, ProgressStep};
use crate::rollout::{Command, Input, RobotIndex, Rollout};
use crate::time::Time;

/// One journaled input: when it happened and what it was, with the failure's detail (for
/// reports) when the input is a robot failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournalEntry {
    pub(crate) at: Time,
    pub(crate) input: Input,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// A rollout machine and the inputs fed to it that are not stored yet.
pub(crate) struct Journaled {
    pub(crate) rollout: Rollout,
    /// Entries applied since the last write.
    pub(crate) pending: Vec<JournalEntry>,
    /// The sequence number of the next journal chunk.
    pub(crate) next_chunk: u64,
    /// Robots named by the inputs applied since the driver last looked (to publish them).
    pub(crate) moved: Vec<u32>,
}

impl Journaled {
    pub(crate) fn new(rollout: Rollout) -> Self {
        Journaled {
            rollout,
            pending: Vec::new(),
            next_chunk: 0,
            moved: Vec::new(),
        }
    }

    /// Feeds `input`, which happened `at`, and journals it (with `detail`, a robot failure's
    /// explanation). An input the machine refuses (a robot out of range) is not journaled.
    pub(crate) fn apply(&mut self, at: Time, input: Input, detail: Option<String>) {
        if self.rollout.handle(input, at).is_ok() {
            if let Some(robot) = input.robot() {
                self.moved.push(robot.0);
            }
            self.pending.push(JournalEntry { at, input, detail });
        }
    }
}

/// What a replay left in flight: per robot, the last command the machine gave about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LastCommand {
    Deploy,
    Rollback,
    Abort,
}

/// What a replay says of each robot beyond the machine's state.
pub(crate) struct Replayed {
    /// The last command given about it.
    pub(crate) last: Vec<Option<LastCommand>>,
    /// The detail of its last failure.
    pub(crate) details: Vec<Option<String>>,
}

/// Replays `entries` into `rollout`, discarding the commands (they were carried out before).
pub(crate) fn replay(
    rollout: &mut Rollout,
    entries: impl IntoIterator<Item = JournalEntry>,
    robots: usize,
) -> Replayed {
    let mut last = vec![None; robots];
    let mut details = vec![None; robots];
    let drain = |rollout: &mut Rollout, last: &mut Vec<Option<LastCommand>>| {
        while let Some(c) = rollout.poll_command() {
            let (robot, what) = match c {
                Command::DeployRobot { robot } => (robot, LastCommand::Deploy),
                Command::RollbackRobot { robot } => (robot, LastCommand::Rollback),
                Command::AbortRobot { robot } => (robot, LastCommand::Abort),
                _ => continue,
            };
            if let Some(slot) = last.get_mut(robot.get()) {
                *slot = Some(what);
            }
        }
        while rollout.poll_event().is_some() {}
    };
    drain(rollout, &mut last);
    for entry in entries {
        // An entry naming a robot out of range changes nothing (the machine refuses it).
        let _ = rollout.handle(entry.input, entry.at);
        if let Input::RobotFailed { robot, .. } = entry.input
            && let Some(slot) = details.get_mut(robot.get())
        {
            *slot = entry.detail;
        }
        drain(rollout, &mut last);
    }
    Replayed { last, details }
}

impl std::ops::Deref for Journaled {
    type Target = Rollout;

    /// Reading the machine needs no journal; feeding it goes through [`Journaled::apply`].
    fn deref(&self) -> &Rollout {
        &self.rollout
    }
}

/// Schema 1's journal op: positional, keyed by a letter, times in milliseconds.
#[derive(Deserialize)]
enum V1Op {
    #[serde(rename = "b")]
    Start(i64),
    #[serde(rename = "p")]
    Prepared(i64),
    #[serde(rename = "g")]
    Progress(i64, u32, ProgressStep, u8),
    #[serde(rename = "s")]
    Succeeded(i64, u32),
    #[serde(rename = "f")]
    Failed(i64, u32, FailureCode, Option<String>),
    #[serde(rename = "x")]
    Offline(i64, u32),
    #[serde(rename = "o")]
    Online(i64, u32),
    #[serde(rename = "c")]
    Cancel(i64),
    #[serde(rename = "r")]
    Resume(i64),
    #[serde(rename = "t")]
    Timeout(i64),
}

impl V1Op {
    fn into_entry(self) -> JournalEntry {
        let t = Time::from_millis;
        let r = RobotIndex;
        let (at, input, detail) = match self {
            V1Op::Start(at) => (at, Input::Start, None),
            V1Op::Prepared(at) => (at, Input::Prepared, None),
            V1Op::Progress(at, robot, step, percent_done) => (
                at,
                Input::RobotProgress {
                    robot: r(robot),
                    step,
                    percent_done,
                },
                None,
            ),
            V1Op::Succeeded(at, robot) => (at, Input::RobotSucceeded { robot: r(robot) }, None),
            V1Op::Failed(at, robot, code, detail) => (
                at,
                Input::RobotFailed {
                    robot: r(robot),
                    code,
                },
                detail,
            ),
            V1Op::Offline(at, robot) => (at, Input::RobotOffline { robot: r(robot) }, None),
            V1Op::Online(at, robot) => (at, Input::RobotOnline { robot: r(robot) }, None),
            V1Op::Cancel(at) => (at, Input::Cancel, None),
            V1Op::Resume(at) => (at, Input::Resume, None),
            V1Op::Timeout(at) => (at, Input::Timeout, None),
        };
        JournalEntry {
            at: t(at),
            input,
            detail,
        }
    }
}

/// Rewrites one journal chunk of schema 1 (compact positional ops) as schema 2's entries.
///
/// # Errors
/// The chunk is not a schema-1 chunk.
pub(crate) fn upgrade_v1_chunk(chunk: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let ops: Vec<V1Op> = serde_json::from_slice(chunk)?;
    let entries: Vec<JournalEntry> = ops.into_iter().map(V1Op::into_entry).collect();
    serde_json::to_vec(&entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_1_chunk_becomes_entries_with_the_same_inputs() {
        let v1 = br#"[{"b":0},{"p":10},{"g":[20,1,"ExecutingPreLaunch",50]},
            {"f":[30,1,"PreLaunchFileFailure","pre.sh exited with 1: boom"]},
            {"s":[40,0]},{"x":[50,2]},{"o":[60,2]},{"c":70},{"r":80},{"t":90}]"#;
        let out = upgrade_v1_chunk(v1).unwrap();
        let entries: Vec<JournalEntry> = serde_json::from_slice(&out).unwrap();
        let t = Time::from_millis;
        let plain = |at, input| JournalEntry {
            at: t(at),
            input,
            detail: None,
        };
        assert_eq!(
            entries,
            vec![
                plain(0, Input::Start),
                plain(10, Input::Prepared),
                plain(
                    20,
                    Input::RobotProgress {
                        robot: RobotIndex(1),
                        step: ProgressStep::ExecutingPreLaunch,
                        percent_done: 50
                    }
                ),
                JournalEntry {
                    at: t(30),
                    input: Input::RobotFailed {
                        robot: RobotIndex(1),
                        code: FailureCode::PreLaunchFileFailure
                    },
                    detail: Some("pre.sh exited with 1: boom".into()),
                },
                plain(
                    40,
                    Input::RobotSucceeded {
                        robot: RobotIndex(0)
                    }
                ),
                plain(
                    50,
                    Input::RobotOffline {
                        robot: RobotIndex(2)
                    }
                ),
                plain(
                    60,
                    Input::RobotOnline {
                        robot: RobotIndex(2)
                    }
                ),
                plain(70, Input::Cancel),
                plain(80, Input::Resume),
                plain(90, Input::Timeout),
            ]
        );
        assert!(upgrade_v1_chunk(br#"[{"z":1}]"#).is_err());
    }
}
