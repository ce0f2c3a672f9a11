//! A chart of the simulator's timeline (recorded with [`TimelineDetail::Full`]).
//!
//! [`TimelineDetail::Full`]: robodeploy_core::sim::TimelineDetail::Full

use robodeploy_core::sim::{Happening, SimReport};

use super::{Chart, Lane, Segment};

impl Chart {
    /// The chart of a simulated job: `names` are the robots in fleet order (the simulation's
    /// robot indices point into it; a robot past its end is named by its index).
    pub(crate) fn from_sim(title: String, names: &[&str], out: &SimReport) -> Chart {
        let size = out.report.robots.len().max(names.len());
        let mut lanes: Vec<Lane> = (0..size)
            .map(|i| Lane {
                robot: names
                    .get(i)
                    .map_or_else(|| format!("robot {i}"), |n| (*n).to_owned()),
                ..Lane::default()
            })
            .collect();
        let origin = out.timeline.first().map_or(0, |e| e.at.as_millis());
        let ms = |t: robodeploy_core::time::Time| {
            u64::try_from(t.as_millis().saturating_sub(origin)).unwrap_or(0)
        };
        let end = out.timeline.last().map_or(0, |e| ms(e.at));
        for entry in &out.timeline {
            let at = ms(entry.at);
            match entry.what {
                Happening::RobotStep { robot, step } => {
                    if let Some(lane) = lanes.get_mut(robot.get()) {
                        close(lane, at);
                        lane.segments.push(Segment {
                            start_ms: at,
                            end_ms: u64::MAX,
                            step,
                        });
                    }
                }
                Happening::RobotSucceeded { robot } => {
                    if let Some(lane) = lanes.get_mut(robot.get()) {
                        close(lane, at);
                        lane.succeeded_ms = Some(at);
                        lane.failure = None;
                    }
                }
                Happening::RobotFailed { robot, code } => {
                    if let Some(lane) = lanes.get_mut(robot.get()) {
                        close(lane, at);
                        lane.failure = Some((at, code));
                    }
                }
                _ => {}
            }
        }
        for lane in &mut lanes {
            close(lane, end);
        }
        Chart {
            title,
            lanes,
            end_ms: end.max(1),
            in_flight_limit: out.report.in_flight_limit,
            failure_threshold: out.report.failure_threshold,
        }
    }
}

/// Ends the lane's open segment at `at`.
fn close(lane: &mut Lane, at: u64) {
    if let Some(last) = lane.segments.last_mut()
        && last.end_ms == u64::MAX
    {
        last.end_ms = at.max(last.start_ms);
    }
}
