//! Parser messages reworded for people: no Rust type names (`expected u8` reads "expected a
//! whole number from 0 to 255"), and a near miss among the names a field accepts is suggested
//! ("unknown variant `arm64`, expected one of amd64, arm32v7, arm64v8; did you mean arm64v8?").

/// Rust's number types as a person says them.
const NUMBERS: &[(&str, &str)] = &[
    ("u8", "a whole number from 0 to 255"),
    ("u16", "a whole number from 0 to 65535"),
    ("u32", "a whole number from 0 to 4294967295"),
    ("u64", "a whole number from 0 to 18446744073709551615"),
    ("usize", "a whole number from 0 to 18446744073709551615"),
    ("i8", "a whole number from -128 to 127"),
    ("i16", "a whole number from -32768 to 32767"),
    ("i32", "a whole number from -2147483648 to 2147483647"),
    ("i64", "a whole number"),
    ("f32", "a number"),
    ("f64", "a number"),
];

/// `message` reworded (see the [module docs](self)).
pub(super) fn for_people(message: &str) -> String {
    let mut out = words_for_types(message);
    if let Some(guess) = near_miss(&out) {
        out.push_str(&format!("; did you mean {guess}?"));
    }
    out
}

/// Replaces each whole-word Rust number type with its description; `invalid u8` becomes
/// "not a whole number from 0 to 255".
fn words_for_types(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    let mut rest = message;
    'scan: while !rest.is_empty() {
        for (ty, words) in NUMBERS {
            for (before, replaced) in [("invalid ", "not "), ("expected ", "expected ")] {
                let pattern = format!("{before}{ty}");
                if let Some(tail) = rest.strip_prefix(pattern.as_str())
                    && !tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                {
                    out.push_str(replaced);
                    out.push_str(words);
                    rest = tail;
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// The accepted name closest to the unknown one in "unknown variant `x`, expected one of a, b"
/// (or "unknown field"), when it is close: a few edits away, or the unknown one is its prefix.
fn near_miss(message: &str) -> Option<String> {
    let start = message
        .find("unknown variant `")
        .map(|i| i + "unknown variant `".len())
        .or_else(|| {
            message
                .find("unknown field `")
                .map(|i| i + "unknown field `".len())
        })?;
    let given = &message[start..];
    let given = &given[..given.find('`')?];
    let list = message
        .split_once("expected one of ")
        .map(|(_, l)| l)
        .or_else(|| message.split_once("expected ").map(|(_, l)| l))?;
    let names: Vec<&str> = list
        .split([',', ' '])
        .map(|n| n.trim_matches(|c: char| c == '`' || c == '.' || c == ';'))
        .filter(|n| !n.is_empty() && *n != "or")
        .collect();
    let lower = given.to_lowercase();
    // A name the given one begins (`arm64` of `arm64v8`) first, then the fewest edits.
    names
        .iter()
        .map(|n| {
            let n_lower = n.to_lowercase();
            let extends = n_lower.starts_with(&lower);
            (!extends, distance(&lower, &n_lower), *n)
        })
        .filter(|(not_extends, d, _)| !*not_extends || *d <= (given.chars().count() / 3).max(2))
        .filter(|(_, _, n)| *n != given)
        .min()
        .map(|(_, _, n)| n.to_owned())
}

/// Levenshtein distance, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_number_types_are_named_for_people() {
        assert_eq!(for_people("invalid u8"), "not a whole number from 0 to 255");
        assert_eq!(
            for_people("invalid type: integer `300`, expected u8"),
            "invalid type: integer `300`, expected a whole number from 0 to 255"
        );
        assert_eq!(
            for_people("expected u32 here"),
            "expected a whole number from 0 to 4294967295 here"
        );
        // Not a type name: left alone.
        assert_eq!(for_people("expected u8x"), "expected u8x");
        assert_eq!(for_people("the u8 budget"), "the u8 budget");
    }

    #[test]
    fn near_misses_are_suggested_and_far_ones_not() {
        assert_eq!(
            for_people("unknown variant `arm64`, expected one of amd64, arm32v7, arm64v8"),
            "unknown variant `arm64`, expected one of amd64, arm32v7, arm64v8; did you mean arm64v8?"
        );
        assert_eq!(
            for_people("unknown field `robotz`, expected one of `name`, `labels`, `robots`"),
            "unknown field `robotz`, expected one of `name`, `labels`, `robots`; did you mean robots?"
        );
        assert_eq!(
            for_people("unknown variant `Docker`, expected `docker` or `preinstalled`"),
            "unknown variant `Docker`, expected `docker` or `preinstalled`; did you mean docker?"
        );
        let far = "unknown variant `windows`, expected one of amd64, arm32v7, arm64v8";
        assert_eq!(for_people(far), far);
    }

    #[test]
    fn distances_count_edits() {
        assert_eq!(distance("arm64", "arm64v8"), 2);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }
}
