//! The retention rule: which finished jobs are old enough to delete from the store.
//!
//! A job is kept while it runs and for a retention period after it ends
//! ([`DEFAULT_RETENTION`](crate::model::DEFAULT_RETENTION), 90 days, unless configured). The rule is
//! pure: the caller supplies the records and the current time, and deletes what [`sweep`] returns.

use std::time::Duration;

use crate::time::Time;

/// What a retention pass found: the jobs to delete now, and when the next one expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep<K> {
    /// The expired jobs, in the order they were given.
    pub expired: Vec<K>,
    /// When the earliest job that is kept expires (for scheduling the next pass); `None` when
    /// no kept job has ended.
    pub next: Option<Time>,
}

/// Sorts `jobs` (a key and when the job ended, `None` while it runs) into those that expired at
/// `now` under `retention` and the rest. A job ended at `t` expires at `t + retention`
/// (saturating): at that instant it is deleted. A running job never expires.
///
/// ```
/// use std::time::Duration;
/// use robodeploy_core::store::sweep;
/// use robodeploy_core::time::Time;
/// const DAY: i64 = 24 * 3600 * 1000;
/// let jobs = [("old", Some(Time::from_millis(0))), ("recent", Some(Time::from_millis(50 * DAY))),
///             ("running", None)];
/// let s = sweep(jobs, Time::from_millis(100 * DAY), Duration::from_secs(90 * 24 * 3600));
/// assert_eq!(s.expired, ["old"]);
/// assert_eq!(s.next, Some(Time::from_millis(140 * DAY)));
/// ```
pub fn sweep<K>(
    jobs: impl IntoIterator<Item = (K, Option<Time>)>,
    now: Time,
    retention: Duration,
) -> Sweep<K> {
    let mut expired = Vec::new();
    let mut next: Option<Time> = None;
    for (key, ended) in jobs {
        let Some(ended) = ended else { continue };
        let expires = ended.saturating_add(retention);
        if expires <= now {
            expired.push(key);
        } else {
            next = Some(next.map_or(expires, |n| n.min(expires)));
        }
    }
    Sweep { expired, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DEFAULT_RETENTION;

    const DAY_MS: i64 = 24 * 3600 * 1000;

    fn at(days: i64) -> Time {
        Time::from_millis(days * DAY_MS)
    }

    #[test]
    fn default_retention_is_ninety_days_to_the_millisecond() {
        let jobs = [
            ("exactly-90", Some(at(10))),
            ("a-ms-short", Some(Time::from_millis(10 * DAY_MS + 1))),
        ];
        let s = sweep(jobs, at(100), DEFAULT_RETENTION);
        assert_eq!(s.expired, ["exactly-90"]);
        assert_eq!(s.next, Some(Time::from_millis(100 * DAY_MS + 1)));
    }

    #[test]
    fn running_jobs_are_kept_and_do_not_set_the_next_pass() {
        let s = sweep([("a", None), ("b", None)], Time::MAX, Duration::ZERO);
        assert!(s.expired.is_empty());
        assert_eq!(s.next, None);
    }

    #[test]
    fn expired_keep_input_order_and_next_is_the_earliest_kept() {
        let jobs = [
            (3, Some(at(1))),
            (1, Some(at(30))),
            (2, None),
            (5, Some(at(0))),
            (4, Some(at(25))),
        ];
        let s = sweep(jobs, at(31), Duration::from_secs(7 * 24 * 3600));
        assert_eq!(s.expired, [3, 5]);
        assert_eq!(s.next, Some(at(32)));
    }

    #[test]
    fn a_custom_retention_and_far_future_times_saturate() {
        let s = sweep(
            [("far", Some(Time::from_millis(i64::MAX - 5)))],
            at(1),
            DEFAULT_RETENTION,
        );
        assert!(s.expired.is_empty());
        assert_eq!(s.next, Some(Time::MAX));
        // An end time after `now` (clock stepped back) is kept.
        let s = sweep([("future", Some(at(50)))], at(40), Duration::ZERO);
        assert!(s.expired.is_empty());
        assert_eq!(s.next, Some(at(50)));
    }
}
