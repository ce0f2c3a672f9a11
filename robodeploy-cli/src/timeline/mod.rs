//! The picture of a rollout: robots × time, one lane per robot holding a bar per step it went
//! through (coloured by step, its name in a `<title>` so it reads without colour), a cross where
//! a robot failed, and two strips under the lanes: robots in flight against the job's
//! concurrency limit, and robots failed against its failure threshold.
//!
//! One drawing ([`svg`]) serves both uses: `robodeploy plan FILE --svg out.svg` draws the
//! simulator's planned timeline ([`Chart::from_sim`]); the server draws a live job from the
//! robot events it recorded ([`Recorder`], `GET /v1/jobs/{id}/timeline.svg`).

mod live;
mod sim;
mod svg;

use robodeploy_core::model::{FailureCode, ProgressStep};

pub(crate) use live::Recorder;
pub(crate) use svg::svg;

/// One step a robot was in, from `start_ms` to `end_ms` (ms since the chart's origin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// When the step started.
    pub(crate) start_ms: u64,
    /// When it ended (the chart's end for a step still under way).
    pub(crate) end_ms: u64,
    /// The step.
    pub(crate) step: ProgressStep,
}

/// One robot's lane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lane {
    /// The robot's name.
    pub(crate) robot: String,
    /// Its steps, in time order.
    pub(crate) segments: Vec<Segment>,
    /// When and why it failed (the last failure when it was retried).
    pub(crate) failure: Option<(u64, FailureCode)>,
    /// When it finished successfully.
    pub(crate) succeeded_ms: Option<u64>,
}

/// Everything the drawing needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Chart {
    /// A heading: application, version, fleet.
    pub(crate) title: String,
    /// One lane per robot, in fleet order.
    pub(crate) lanes: Vec<Lane>,
    /// The time the picture spans, in ms (at least 1).
    pub(crate) end_ms: u64,
    /// Robots at most in flight at once.
    pub(crate) in_flight_limit: u32,
    /// Robots whose failure halts the job.
    pub(crate) failure_threshold: u32,
}

impl Chart {
    /// Robots in flight at each change: `(ms, count)`, in time order. A robot is in flight from
    /// the start of a run of segments to its end (a gap between segments ends the run).
    pub(crate) fn in_flight(&self) -> Vec<(u64, u32)> {
        let mut edges: Vec<(u64, i64)> = Vec::new();
        for lane in &self.lanes {
            let mut run: Option<(u64, u64)> = None;
            for s in &lane.segments {
                run = match run {
                    Some((a, b)) if s.start_ms <= b => Some((a, b.max(s.end_ms))),
                    Some((a, b)) => {
                        edges.push((a, 1));
                        edges.push((b, -1));
                        Some((s.start_ms, s.end_ms))
                    }
                    None => Some((s.start_ms, s.end_ms)),
                };
            }
            if let Some((a, b)) = run {
                edges.push((a, 1));
                edges.push((b, -1));
            }
        }
        // At one instant, ends before starts: a slot freed is taken again without overlap.
        edges.sort_by_key(|&(t, d)| (t, d));
        let mut out: Vec<(u64, u32)> = Vec::new();
        let mut n: i64 = 0;
        for (t, d) in edges {
            n += d;
            let count = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
            match out.last_mut() {
                Some(last) if last.0 == t => last.1 = count,
                _ => out.push((t, count)),
            }
        }
        out
    }

    /// Robots failed so far at each failure: `(ms, count)`, in time order.
    pub(crate) fn failures(&self) -> Vec<(u64, u32)> {
        let mut at: Vec<u64> = self
            .lanes
            .iter()
            .filter_map(|l| l.failure.map(|(t, _)| t))
            .collect();
        at.sort_unstable();
        at.into_iter().zip(1u32..).collect()
    }
}
