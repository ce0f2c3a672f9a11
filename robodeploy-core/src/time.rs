//! Time as the pure core sees it: a millisecond timestamp handed in by the caller.
//!
//! The lifecycle and rollout machines never read a clock. Their callers pass a [`Time`] with every
//! event; the engine takes it from the system clock, the simulator from its virtual clock. A
//! millisecond resolution is plenty for deployments (the shortest timer anywhere is a restart
//! backoff of 100 ms) and keeps a robot's state small.
//!
//! ```
//! use robodeploy_core::time::Time;
//! use std::time::Duration;
//!
//! let t = Time::from_millis(1_000);
//! assert_eq!(t + Duration::from_secs(2), Time::from_millis(3_000));
//! assert_eq!((t + Duration::from_secs(2)).since(t), Duration::from_secs(2));
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::num::NonZeroI64;
use std::ops::Add;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in milliseconds since the Unix epoch, supplied by the caller.
///
/// Serialised as RFC 3339 (`2026-11-21T10:00:00Z`) so stored state and reports read naturally.
///
/// `Option<Time>` is as small as `Time` (8 bytes): the machines keep "not yet" as `None`, with
/// no sentinel instant, at no cost per robot. The one millisecond given up for this is
/// `i64::MIN`, which [`Time::from_millis`] rounds up to [`Time::MIN`], 292 million years before
/// the epoch.
///
/// ```
/// use robodeploy_core::time::Time;
/// assert_eq!(std::mem::size_of::<Option<Time>>(), 8);
/// assert_eq!(Time::from_millis(i64::MIN), Time::MIN);
/// assert!(Time::MIN < Time::EPOCH && Time::EPOCH < Time::MAX);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time(
    /// The milliseconds with their sign bit flipped, so that `i64::MIN` is the zero `NonZeroI64`
    /// leaves free for `None`.
    NonZeroI64,
);

impl Time {
    /// The Unix epoch; the simulator starts its virtual clock here.
    pub const EPOCH: Time = Time::from_millis(0);
    /// The earliest representable instant: `i64::MIN + 1` milliseconds.
    pub const MIN: Time = Time::from_millis(i64::MIN + 1);
    /// The latest representable instant; used as "never".
    pub const MAX: Time = Time::from_millis(i64::MAX);

    /// An instant `ms` milliseconds after the Unix epoch (`i64::MIN` becomes [`Time::MIN`]).
    pub const fn from_millis(ms: i64) -> Self {
        let ms = if ms == i64::MIN { i64::MIN + 1 } else { ms };
        match NonZeroI64::new(ms ^ i64::MIN) {
            Some(bits) => Time(bits),
            // ms ≠ i64::MIN, so its flipped form is never zero.
            None => Time(NonZeroI64::MAX),
        }
    }

    /// Milliseconds since the Unix epoch.
    #[inline]
    pub const fn as_millis(self) -> i64 {
        self.0.get() ^ i64::MIN
    }

    /// The time elapsed from `earlier` to `self`, zero when `earlier` is later.
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.as_millis().saturating_sub(earlier.as_millis()).max(0) as u64)
    }

    /// `self` plus `d`, saturating at [`Time::MAX`].
    pub fn saturating_add(self, d: Duration) -> Time {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Time::from_millis(self.as_millis().saturating_add(ms))
    }

    /// `self` plus `ms` milliseconds, saturating at the ends of the range: the machines' hot path
    /// for adding a span they keep in milliseconds.
    #[inline]
    pub(crate) const fn plus_millis(self, ms: i64) -> Time {
        Time::from_millis(self.as_millis().saturating_add(ms))
    }

    /// The current wall-clock time, for drivers and runtimes: the engine's clock, and a
    /// [`Runtime`](crate::runtime::Runtime) stamping its events and instances (robodeploy-process
    /// and any runtime a user writes need it). The pure core (`lifecycle`, `rollout`, `sim`)
    /// never calls it: its time is always handed in.
    pub fn now() -> Time {
        Time::from(jiff::Timestamp::now())
    }
}

impl Default for Time {
    /// The epoch.
    fn default() -> Self {
        Time::EPOCH
    }
}

impl Ord for Time {
    #[inline]
    fn cmp(&self, other: &Time) -> Ordering {
        self.as_millis().cmp(&other.as_millis())
    }
}

impl PartialOrd for Time {
    #[inline]
    fn partial_cmp(&self, other: &Time) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Time").field(&self.as_millis()).finish()
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        self.saturating_add(d)
    }
}

impl From<jiff::Timestamp> for Time {
    fn from(ts: jiff::Timestamp) -> Self {
        Time::from_millis(ts.as_millisecond())
    }
}

impl From<Time> for jiff::Timestamp {
    fn from(t: Time) -> Self {
        // Out-of-range instants (beyond year 9999) clamp to jiff's bounds.
        let ms = t.as_millis();
        jiff::Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        })
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&jiff::Timestamp::from(*self), f)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        jiff::Timestamp::from(*self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        jiff::Timestamp::deserialize(d).map(Time::from)
    }
}

/// A time travels as an RFC 3339 timestamp in UTC (`2026-12-04T12:00:00Z`).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Time {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Time".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An instant, RFC 3339 in UTC"
        })
    }
}

/// Serde for [`Duration`] fields in manifests: human spans such as `"5h"`, `"90s"`, `"1h 30m"` or
/// ISO 8601 `"PT5H"` in, the compact friendly form out.
///
/// Use as `#[serde(with = "robodeploy_core::time::duration")]`.
pub mod duration {
    use super::*;

    /// Serialises a duration as a friendly span (`"5h"`, `"1m 30s"`).
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        let sd = jiff::SignedDuration::try_from(*d).map_err(serde::ser::Error::custom)?;
        s.collect_str(&format_args!("{sd:#}"))
    }

    /// A duration as a friendly span (`"5h"`, `"1m 30s"`), as [`serialize`] writes it.
    pub fn format(d: Duration) -> String {
        match jiff::SignedDuration::try_from(d) {
            Ok(sd) => format!("{sd:#}"),
            Err(_) => format!("{}s", d.as_secs()),
        }
    }

    /// Parses a friendly or ISO 8601 span; negative spans are rejected.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// Stands for a duration field in the JSON Schema, as
    /// `#[schemars(with = "crate::time::duration::Span")]` (and `Option<Span>` for
    /// [`option`], which reads `null` as none).
    #[cfg(feature = "schema")]
    pub(crate) struct Span;

    /// What [`deserialize`] reads: a string, since that is all it takes. Whether the string is a
    /// span (and not a negative one) only [`parse`] can tell; the pattern asks for the digit
    /// every span has, so that editors catch `"soon"`.
    #[cfg(feature = "schema")]
    impl schemars::JsonSchema for Span {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Duration".into()
        }

        fn schema_id() -> std::borrow::Cow<'static, str> {
            concat!(module_path!(), "::Span").into()
        }

        fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::json_schema!({
                "type": "string",
                "pattern": "[0-9]",
                "description": "A span of time, not negative: friendly (`5h`, `90s`, `1h 30m`, \
                    `2 days`) or ISO 8601 (`PT5H`). A day is 24 hours; years and months are \
                    refused.",
                "examples": ["5h", "90s", "1h 30m", "PT5H"],
            })
        }
    }

    /// Parses `"5h"`, `"90s"`, `"1h 30m"` or `"PT5H"` into a [`Duration`].
    ///
    /// ```
    /// use robodeploy_core::time::duration::parse;
    /// use std::time::Duration;
    /// assert_eq!(parse("5h").unwrap(), Duration::from_secs(5 * 3600));
    /// assert_eq!(parse("PT90S").unwrap(), Duration::from_secs(90));
    /// assert!(parse("-5m").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Duration, String> {
        let span: jiff::Span = text
            .trim()
            .parse()
            .map_err(|e| format!("invalid duration {text:?}: {e}"))?;
        // A day is 24 hours here: deployment timeouts are elapsed time, not calendar time.
        let sd = span
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|e| format!("invalid duration {text:?}: {e}"))?;
        Duration::try_from(sd)
            .map_err(|_| format!("invalid duration {text:?}: must not be negative"))
    }

    /// The same for optional fields: `#[serde(default, with = "robodeploy_core::time::duration::option")]`.
    pub mod option {
        use super::*;

        /// Serialises `Some` as a friendly span and `None` as null.
        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        /// Parses an optional span.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            let text: Option<String> = Option::deserialize(d)?;
            text.map(|t| parse(&t).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trips_through_rfc3339() {
        let t = Time::from_millis(1_763_719_200_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2025-11-21T10:00:00.123Z\"");
        assert_eq!(serde_json::from_str::<Time>(&json).unwrap(), t);
    }

    #[test]
    fn order_and_arithmetic_hold_across_the_epoch() {
        let times = [i64::MIN + 1, -5, -1, 0, 1, 7, i64::MAX].map(Time::from_millis);
        for w in times.windows(2) {
            assert!(w[0] < w[1], "{:?} < {:?}", w[0], w[1]);
        }
        assert_eq!(Time::from_millis(-3).as_millis(), -3);
        assert_eq!(Time::MAX.plus_millis(1), Time::MAX);
        assert_eq!(Time::MIN.plus_millis(-1), Time::MIN);
        assert_eq!(format!("{:?}", Time::from_millis(-2)), "Time(-2)");
        assert_eq!(Time::default(), Time::EPOCH);
    }

    #[test]
    fn since_never_goes_negative() {
        assert_eq!(
            Time::from_millis(5).since(Time::from_millis(10)),
            Duration::ZERO
        );
    }

    #[test]
    fn friendly_duration_round_trips() {
        for text in ["5h", "1m", "7d", "1h 30m", "250ms"] {
            let d = duration::parse(text).unwrap();
            let sd = jiff::SignedDuration::try_from(d).unwrap();
            assert_eq!(duration::parse(&format!("{sd:#}")).unwrap(), d, "{text}");
        }
    }
}
