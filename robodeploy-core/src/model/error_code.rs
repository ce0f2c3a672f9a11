//! The seed's deployment error codes (`DEP_E151` …), with their descriptions and recommended
//! actions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a deployment is in error, exactly as the seed numbers it.
///
/// Displays as the seed writes it (`DEP_E151`); internal errors keep their number
/// (`DEP_E201`, `DEP_E305`, `DEP_E400`).
///
/// | code | meaning |
/// |---|---|
/// | DEP_E151 | device offline or unreachable |
/// | DEP_E152 | device executables exited too early or failed |
/// | DEP_E153 | cloud: image could not be pulled or built |
/// | DEP_E154 | cloud executables exited too early |
/// | DEP_E155 | cloud executables failed |
/// | DEP_E156 | a dependent deployment is in error |
/// | DEP_E161 | image (or binary) not found for a device executable |
/// | DEP_E162 | validation: ROS distro / architecture inconsistent, images missing on a docker device |
/// | DEP_E163 | crashes continuously (crash loop) |
/// | DEP_E2xx | internal error in cloud components |
/// | DEP_E3xx | internal error in device components |
/// | DEP_E4xx | internal error |
///
/// ```
/// use robodeploy_core::model::ErrorCode;
/// assert_eq!(ErrorCode::DeviceOffline.to_string(), "DEP_E151");
/// assert_eq!("DEP_E305".parse::<ErrorCode>().unwrap(), ErrorCode::InternalDevice(305));
/// assert!(ErrorCode::CrashLoop.recommended_action().contains("logs"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// DEP_E151.
    DeviceOffline,
    /// DEP_E152.
    DeviceExecutableFailed,
    /// DEP_E153.
    CloudImageUnavailable,
    /// DEP_E154.
    CloudExitedEarly,
    /// DEP_E155.
    CloudExecutableFailed,
    /// DEP_E156.
    DependencyInError,
    /// DEP_E161.
    DeviceImageNotFound,
    /// DEP_E162.
    Validation,
    /// DEP_E163.
    CrashLoop,
    /// DEP_E2xx: the number, 200..=299.
    InternalCloud(u16),
    /// DEP_E3xx: the number, 300..=399.
    InternalDevice(u16),
    /// DEP_E4xx: the number, 400..=499.
    Internal(u16),
}

impl ErrorCode {
    /// The number after `DEP_E`.
    pub fn number(self) -> u16 {
        match self {
            ErrorCode::DeviceOffline => 151,
            ErrorCode::DeviceExecutableFailed => 152,
            ErrorCode::CloudImageUnavailable => 153,
            ErrorCode::CloudExitedEarly => 154,
            ErrorCode::CloudExecutableFailed => 155,
            ErrorCode::DependencyInError => 156,
            ErrorCode::DeviceImageNotFound => 161,
            ErrorCode::Validation => 162,
            ErrorCode::CrashLoop => 163,
            ErrorCode::InternalCloud(n) | ErrorCode::InternalDevice(n) | ErrorCode::Internal(n) => {
                n
            }
        }
    }

    /// The code for a number, when the seed defines it.
    pub fn from_number(n: u16) -> Option<Self> {
        Some(match n {
            151 => ErrorCode::DeviceOffline,
            152 => ErrorCode::DeviceExecutableFailed,
            153 => ErrorCode::CloudImageUnavailable,
            154 => ErrorCode::CloudExitedEarly,
            155 => ErrorCode::CloudExecutableFailed,
            156 => ErrorCode::DependencyInError,
            161 => ErrorCode::DeviceImageNotFound,
            162 => ErrorCode::Validation,
            163 => ErrorCode::CrashLoop,
            200..=299 => ErrorCode::InternalCloud(n),
            300..=399 => ErrorCode::InternalDevice(n),
            400..=499 => ErrorCode::Internal(n),
            _ => return None,
        })
    }

    /// The seed's short description.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::DeviceOffline => "device is either offline or not reachable",
            ErrorCode::DeviceExecutableFailed => {
                "executables of the component deployed on the device either exited too early or failed"
            }
            ErrorCode::CloudImageUnavailable => {
                "unable to either pull the docker image or build the source code for the component deployed on cloud"
            }
            ErrorCode::CloudExitedEarly => {
                "executables of the component deployed on cloud exited too early"
            }
            ErrorCode::CloudExecutableFailed => {
                "executables of the component deployed on cloud failed"
            }
            ErrorCode::DependencyInError => "dependent deployment is in error state",
            ErrorCode::DeviceImageNotFound => {
                "docker image not found for executables of components deployed on device"
            }
            ErrorCode::Validation => {
                "validation error: inconsistent ROS distro or CPU architecture between device and package, or docker images not present on docker device"
            }
            ErrorCode::CrashLoop => {
                "application has stopped and exited unexpectedly, and crashes continuously"
            }
            ErrorCode::InternalCloud(_) => "internal error in the components deployed on cloud",
            ErrorCode::InternalDevice(_) => "internal error in the components deployed on a device",
            ErrorCode::Internal(_) => "internal error",
        }
    }

    /// The seed's recommended action.
    pub fn recommended_action(self) -> &'static str {
        match self {
            ErrorCode::DeviceOffline => "check the internet connection of the device",
            ErrorCode::DeviceExecutableFailed
            | ErrorCode::CloudExitedEarly
            | ErrorCode::CloudExecutableFailed => {
                "troubleshoot the failed component by analyzing deployment logs"
            }
            ErrorCode::CloudImageUnavailable => {
                "verify that the docker image provided while adding the package still exists at the specified registry endpoint"
            }
            ErrorCode::DependencyInError => {
                "troubleshoot the dependent deployment that is in error state"
            }
            ErrorCode::DeviceImageNotFound => "verify that the path of the docker image is valid",
            ErrorCode::Validation => {
                "create the package with appropriate values for ROS distro and CPU architecture, or onboard the device again"
            }
            ErrorCode::CrashLoop => "debug the application using the corresponding deployment logs",
            ErrorCode::InternalCloud(_) | ErrorCode::InternalDevice(_) | ErrorCode::Internal(_) => {
                "report the issue together with the relevant details to the support team"
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DEP_E{}", self.number())
    }
}

/// A string that is not a `DEP_E…` code the seed defines.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a deployment error code (expected DEP_E151..DEP_E163 or DEP_E200..DEP_E499)")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("DEP_E")
            .filter(|n| n.len() == 3)
            .and_then(|n| n.parse::<u16>().ok())
            .and_then(ErrorCode::from_number)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A code travels as its `DEP_E` string: `DEP_E151`..`DEP_E163`, `DEP_E200`..`DEP_E499`.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for ErrorCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^DEP_E(15[1-9]|16[0-3]|[2-4][0-9]{2})$",
            "description": "A deployment error code of the seed (DEP_E151..DEP_E163, DEP_E200..DEP_E499)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_code_displays_and_parses_back() {
        for n in [
            151, 152, 153, 154, 155, 156, 161, 162, 163, 200, 299, 300, 301, 399, 400, 499,
        ] {
            let code = ErrorCode::from_number(n).unwrap();
            assert_eq!(code.to_string(), format!("DEP_E{n}"));
            assert_eq!(code.to_string().parse::<ErrorCode>().unwrap(), code);
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"DEP_E{n}\"")
            );
        }
    }

    #[test]
    fn undefined_numbers_are_refused() {
        for s in [
            "DEP_E150",
            "DEP_E157",
            "DEP_E500",
            "DEP_E1511",
            "E151",
            "DEP_Exyz",
        ] {
            assert!(s.parse::<ErrorCode>().is_err(), "{s}");
        }
    }
}
