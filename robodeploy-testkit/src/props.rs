//! How many cases the property tests run.

use proptest::test_runner::Config;

/// At least `floor` cases per property, more when `PROPTEST_CASES` asks for more (never fewer:
/// the floor is what the properties are known to need to reach their rare paths).
pub fn cases(floor: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(floor)
            .max(floor),
        ..Config::default()
    }
}
