//! The engine's clock: wall time for the machines, tokio time for sleeping.
//!
//! The machines take a [`Time`]; the engine derives it from tokio's clock anchored at the wall
//! time the engine started, so `tokio::time::pause` and `advance` in tests move the machines'
//! time too, and a wall-clock jump never makes time go backwards.

use std::time::Duration;

use tokio::time::Instant;

use crate::time::Time;

/// Maps tokio instants to machine time and back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    base_time: Time,
    base_instant: Instant,
}

impl Clock {
    /// A clock anchored now.
    pub(crate) fn new() -> Self {
        Clock {
            base_time: Time::now(),
            base_instant: Instant::now(),
        }
    }

    /// The current machine time.
    pub(crate) fn now(&self) -> Time {
        self.base_time + self.base_instant.elapsed()
    }

    /// The tokio instant at which machine time reaches `t` (now, when `t` has passed).
    pub(crate) fn instant_at(&self, t: Time) -> Instant {
        let offset = Duration::from_millis(
            t.as_millis()
                .saturating_sub(self.base_time.as_millis())
                .max(0) as u64,
        );
        self.base_instant + offset
    }
}
