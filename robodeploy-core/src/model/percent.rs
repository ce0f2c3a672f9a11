//! Reading a percentage field: a whole number. One that cannot be a percentage at all (300,
//! -5, 10.5, "ten") is refused while reading, in words ("not a percentage: a whole number from
//! 1 to 100") rather than in the storage type's terms (`invalid u8`); 0 reads, and validation
//! refuses it naming the field, as it does every rule of the model.

use std::fmt;

use serde::de::{self, Deserializer, Unexpected, Visitor};

/// What a percentage field expects, in words.
const EXPECTED: &str = "a percentage: a whole number from 1 to 100";

/// Reads a percentage (0..=100 reads; validation refuses 0).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    d.deserialize_any(PercentVisitor)
}

struct PercentVisitor;

impl Visitor<'_> for PercentVisitor {
    type Value = u8;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u8, E> {
        match u8::try_from(v) {
            Ok(p) if p <= 100 => Ok(p),
            _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u8, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u8, E> {
        if v.fract() == 0.0 && (0.0..=100.0).contains(&v) {
            // A whole number written with a decimal point (10.0): exact.
            return Ok(v as u8);
        }
        Err(E::invalid_value(Unexpected::Float(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::DeploymentConfig;

    fn config(value: &str) -> Result<DeploymentConfig, String> {
        let json = format!(
            r#"{{"concurrentDeploymentPercentage": {value}, "failureThresholdPercentage": 10}}"#
        );
        serde_json::from_str(&json).map_err(|e| e.to_string())
    }

    #[test]
    fn percentages_read_as_whole_numbers_and_others_are_refused_in_words() {
        assert_eq!(config("50").unwrap().concurrent_deployment_percentage, 50);
        assert_eq!(config("100").unwrap().concurrent_deployment_percentage, 100);
        assert_eq!(config("10.0").unwrap().concurrent_deployment_percentage, 10);
        // 0 reads: validation refuses it, naming the field.
        assert_eq!(config("0").unwrap().concurrent_deployment_percentage, 0);
        for bad in ["101", "300", "-5", "10.5", "\"ten\""] {
            let err = config(bad).unwrap_err();
            assert!(
                err.contains("a percentage: a whole number from 1 to 100"),
                "{bad}: {err}"
            );
            assert!(!err.contains("u8"), "{bad}: {err}");
        }
    }
}
