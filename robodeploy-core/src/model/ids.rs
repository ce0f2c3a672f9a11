//! Identifiers: one uuid newtype per kind of thing, so a job id can never be passed as a
//! deployment id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing uuid (for ids read back from a store or handed in by a caller).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// An id built from a 128-bit value: deterministic ids for the simulator and tests.
            pub const fn from_u128(v: u128) -> Self {
                Self(Uuid::from_u128(v))
            }

            /// The underlying uuid.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                uuid_schema()
            }
        }
    };
}

/// A hyphenated uuid: 8-4-4-4-12 hex digits.
#[cfg(feature = "schema")]
const HYPHENATED: &str =
    "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";

/// The schema of every id: the strings `Uuid::parse_str` reads (uuid's serde reads strings with
/// it in JSON and YAML), in each of its four forms, hex digits in either case.
#[cfg(feature = "schema")]
fn uuid_schema() -> schemars::Schema {
    let simple = "[0-9A-Fa-f]{32}";
    let braced = format!("\\{{{HYPHENATED}\\}}");
    let urn = format!("[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:{HYPHENATED}");
    schemars::json_schema!({
        "type": "string",
        "pattern": format!("^(?:{HYPHENATED}|{simple}|{braced}|{urn})$"),
        "description": "A UUID: hyphenated (`67e55044-10b1-426f-9247-bb680e5fe0c8`), 32 hex \
            digits without hyphens, braced (`{67e5…}`) or `urn:uuid:67e5…`.",
    })
}

uuid_id!(
    /// Identifies one [`Deployment`](crate::model::DeploymentRequest) for its whole life.
    ///
    /// ```
    /// use robodeploy_core::model::DeploymentId;
    /// let id = DeploymentId::from_u128(7);
    /// assert_eq!(id.to_string().parse::<DeploymentId>().unwrap(), id);
    /// ```
    DeploymentId
);
uuid_id!(
    /// Identifies one deployment job (a rollout of a version to a fleet).
    JobId
);
uuid_id!(
    /// Identifies one device (a robot, or any machine that runs device components).
    DeviceId
);
