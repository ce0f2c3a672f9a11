//! The live timeline: what the server saw of each job's robots, from the engine's robot
//! events, stamped with the server's clock as they arrive.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use robodeploy_core::engine::{EngineEvent, JobReport};
use robodeploy_core::model::{FailureCode, JobId, ProgressStep, RobotStatus};
use robodeploy_core::time::Time;

use super::{Chart, Lane, Segment};

/// Jobs remembered at most; the oldest recorded is forgotten first.
const JOBS_KEPT: usize = 64;

/// One robot as recorded: steps with their start (ms since the epoch) and end.
#[derive(Default)]
struct Track {
    steps: Vec<(i64, Option<i64>, ProgressStep)>,
    failure: Option<(i64, FailureCode)>,
    succeeded: Option<i64>,
}

impl Track {
    fn close(&mut self, at: i64) {
        if let Some(last) = self.steps.last_mut()
            && last.1.is_none()
        {
            last.1 = Some(at.max(last.0));
        }
    }
}

/// The robots of one job, by name, and when the server first saw the job.
struct JobTracks {
    first: i64,
    robots: HashMap<String, Track>,
}

/// Every job's recorded robot steps; shared by the recording task and the handlers.
#[derive(Default)]
pub(crate) struct Recorder {
    inner: Mutex<(HashMap<JobId, JobTracks>, VecDeque<JobId>)>,
}

impl Recorder {
    /// Records `event`, seen at `now`.
    pub(crate) fn record(&self, event: &EngineEvent, now: Time) {
        let EngineEvent::Robot { job, report } = event else {
            return;
        };
        let at = now.as_millis();
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let (jobs, order) = &mut *guard;
        if !jobs.contains_key(job) {
            order.push_back(*job);
            while order.len() > JOBS_KEPT {
                if let Some(old) = order.pop_front() {
                    jobs.remove(&old);
                }
            }
        }
        let tracks = jobs.entry(*job).or_insert_with(|| JobTracks {
            first: at,
            robots: HashMap::new(),
        });
        let track = tracks.robots.entry(report.robot.clone()).or_default();
        match report.status {
            RobotStatus::Failed | RobotStatus::NoResponse => {
                track.close(at);
                track.failure = Some((
                    at,
                    report
                        .failure
                        .unwrap_or(FailureCode::RobotDeploymentNoResponse),
                ));
            }
            RobotStatus::InSync => {
                track.close(at);
                track.succeeded = Some(at);
                track.failure = None;
            }
            RobotStatus::Deploying => {
                let open_same =
                    matches!(track.steps.last(), Some((_, None, s)) if *s == report.step);
                if !open_same {
                    track.close(at);
                    track.steps.push((at, None, report.step));
                }
            }
            _ => {}
        }
    }

    /// Forgets the jobs not in `kept` (those the engine deleted at the end of their retention).
    pub(crate) fn retain(&self, kept: &std::collections::HashSet<JobId>) {
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let (jobs, order) = &mut *guard;
        jobs.retain(|id, _| kept.contains(id));
        order.retain(|id| kept.contains(id));
    }

    /// The chart of `job` at `now`: a lane per robot in fleet order, from the first event the
    /// server saw of the job (robots it saw nothing of have empty lanes).
    pub(crate) fn chart(&self, job: &JobReport, now: Time) -> Chart {
        let now = now.as_millis();
        let guard = self.inner.lock().ok();
        let tracks = guard.as_ref().and_then(|g| g.0.get(&job.id));
        let origin = tracks.map_or(now, |t| t.first);
        let ms = |t: i64| u64::try_from(t.saturating_sub(origin)).unwrap_or(0);
        let mut end = ms(now);
        let mut lanes = Vec::with_capacity(job.robots.len());
        for robot in &job.robots {
            let mut lane = Lane {
                robot: robot.robot.clone(),
                ..Lane::default()
            };
            if let Some(track) = tracks.and_then(|t| t.robots.get(&robot.robot)) {
                lane.segments = track
                    .steps
                    .iter()
                    .map(|&(a, b, step)| Segment {
                        start_ms: ms(a),
                        end_ms: ms(b.unwrap_or(now)),
                        step,
                    })
                    .collect();
                lane.failure = track.failure.map(|(t, c)| (ms(t), c));
                lane.succeeded_ms = track.succeeded.map(ms);
            } else if let (RobotStatus::Failed, Some(code)) = (robot.status, robot.failure) {
                // Failed before the server saw it move: mark it at the start.
                lane.failure = Some((0, code));
            }
            if let Some(last) = lane.segments.last() {
                end = end.max(last.end_ms);
            }
            lanes.push(lane);
        }
        Chart {
            title: format!(
                "{} {} on fleet {} — job {} ({:?})",
                job.application, job.version, job.fleet, job.id, job.status
            ),
            lanes,
            end_ms: end.max(1),
            in_flight_limit: job.in_flight_limit,
            failure_threshold: job.failure_threshold,
        }
    }
}
