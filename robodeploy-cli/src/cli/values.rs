//! How the command line reads its values that are more than a word: spans of time, shares and
//! speeds. Apart from `args.rs` so that the build script, which compiles `args.rs` to render the
//! man page and the completions, can put its own versions in their place without the core crate.

use std::time::Duration;

/// A share from 0 to 1.
pub(crate) fn share(v: &str) -> Result<f64, String> {
    let x: f64 = v
        .parse()
        .map_err(|_| format!("{v:?} is not a number from 0 to 1"))?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{v} is not a share from 0 to 1"))
    }
}

/// `PCT` or `MIN..MAX`, positive, the minimum first.
pub(crate) fn speed(v: &str) -> Result<(u64, u64), String> {
    let whole = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("{s:?} is not a whole number of percent"))
    };
    let (min, max) = match v.split_once("..") {
        Some((a, b)) => (whole(a)?, whole(b)?),
        None => {
            let n = whole(v)?;
            (n, n)
        }
    };
    if min == 0 || min > max {
        return Err(format!(
            "{v}: percentages must be positive, the minimum first"
        ));
    }
    Ok((min, max))
}

/// A positive span as manifests write them (`90d`, `7 days`, `PT12H`).
pub(crate) fn retention(v: &str) -> Result<Duration, String> {
    match robodeploy_core::time::duration::parse(v)? {
        d if d.is_zero() => Err(format!("{v:?}: a retention must be positive")),
        d => Ok(d),
    }
}

/// A span as manifests write them (`90s`, `250ms`, `1h 30m`, `2 days`, `PT5H`), or plain
/// seconds (`30`): one reading of a span through every door.
pub(crate) fn duration(v: &str) -> Result<Duration, String> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| format!("{v:?}: too many seconds"));
    }
    robodeploy_core::time::duration::parse(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_with_their_rules() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("30"), Ok(Duration::from_secs(30)));
        // The same reading as manifests and --job-retention.
        assert_eq!(duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("2 days"), Ok(Duration::from_secs(2 * 86_400)));
        assert_eq!(duration("PT5H"), Ok(Duration::from_secs(5 * 3600)));
        assert!(duration("soon").unwrap_err().contains("invalid duration"));
        assert!(duration("-5m").is_err());
        assert_eq!(retention("7 days"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(retention("0s").unwrap_err().contains("must be positive"));
        assert_eq!(speed("100..300"), Ok((100, 300)));
        assert!(speed("300..100").unwrap_err().contains("the minimum first"));
        assert_eq!(share("0.2"), Ok(0.2));
        assert!(share("2").unwrap_err().contains("from 0 to 1"));
    }
}
