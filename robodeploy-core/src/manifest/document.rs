//! One manifest document: `apiVersion`, `kind` and the typed `spec`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{DeploymentJobRequest, DeploymentRequest, Fleet, Package};

/// The manifest format version this crate reads and writes.
pub const API_VERSION: &str = "robodeploy/v1";

/// Every `apiVersion` this crate reads; an error names them when a document uses another.
pub const SUPPORTED_API_VERSIONS: &[&str] = &[API_VERSION];

/// What a document describes; its `spec` is the matching model type.
///
/// ```
/// use robodeploy_core::manifest::Kind;
/// assert_eq!("DeploymentJob".parse::<Kind>().unwrap(), Kind::DeploymentJob);
/// assert_eq!(Kind::Package.to_string(), "Package");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Kind {
    /// `spec` is a [`Package`].
    Package,
    /// `spec` is a [`Fleet`].
    Fleet,
    /// `spec` is a [`DeploymentRequest`].
    Deployment,
    /// `spec` is a [`DeploymentJobRequest`].
    DeploymentJob,
}

impl Kind {
    /// Every kind, in the order manifests usually list them.
    pub const ALL: [Kind; 4] = [
        Kind::Package,
        Kind::Fleet,
        Kind::Deployment,
        Kind::DeploymentJob,
    ];

    /// The name written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Package => "Package",
            Kind::Fleet => "Fleet",
            Kind::Deployment => "Deployment",
            Kind::DeploymentJob => "DeploymentJob",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a document kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a document kind (expected Package, Fleet, Deployment or DeploymentJob)")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// One document of a manifest: a kind and its typed spec.
///
/// Reads and writes as `{apiVersion: robodeploy/v1, kind: …, spec: …}`. When reading,
/// `apiVersion` and `kind` must both come **before** `spec`, so that `spec` is read straight into
/// its type and errors inside it keep their line and column; any other top-level key is an error.
///
/// ```
/// use robodeploy_core::manifest::{Document, Kind};
/// let doc: Document = serde_json::from_str(r#"{
///   "apiVersion": "robodeploy/v1", "kind": "Fleet",
///   "spec": {"name": "lab", "robots": []}
/// }"#).unwrap();
/// assert_eq!(doc.kind(), Kind::Fleet);
/// assert_eq!(doc.name(), Some("lab"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Document {
    /// `kind: Package`.
    Package(Package),
    /// `kind: Fleet`.
    Fleet(Fleet),
    /// `kind: Deployment`.
    Deployment(DeploymentRequest),
    /// `kind: DeploymentJob`.
    DeploymentJob(DeploymentJobRequest),
}

impl Document {
    /// The document's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Document::Package(_) => Kind::Package,
            Document::Fleet(_) => Kind::Fleet,
            Document::Deployment(_) => Kind::Deployment,
            Document::DeploymentJob(_) => Kind::DeploymentJob,
        }
    }

    /// The name of what it describes; deployment jobs have none.
    pub fn name(&self) -> Option<&str> {
        match self {
            Document::Package(p) => Some(&p.name),
            Document::Fleet(f) => Some(&f.name),
            Document::Deployment(d) => Some(&d.name),
            Document::DeploymentJob(_) => None,
        }
    }
}

impl From<Package> for Document {
    fn from(p: Package) -> Self {
        Document::Package(p)
    }
}

impl From<Fleet> for Document {
    fn from(f: Fleet) -> Self {
        Document::Fleet(f)
    }
}

impl From<DeploymentRequest> for Document {
    fn from(d: DeploymentRequest) -> Self {
        Document::Deployment(d)
    }
}

impl From<DeploymentJobRequest> for Document {
    fn from(j: DeploymentJobRequest) -> Self {
        Document::DeploymentJob(j)
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Document", 3)?;
        st.serialize_field("apiVersion", API_VERSION)?;
        st.serialize_field("kind", &self.kind())?;
        match self {
            Document::Package(p) => st.serialize_field("spec", p)?,
            Document::Fleet(f) => st.serialize_field("spec", f)?,
            Document::Deployment(d) => st.serialize_field("spec", d)?,
            Document::DeploymentJob(j) => st.serialize_field("spec", j)?,
        }
        st.end()
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum TopField {
    ApiVersion,
    Kind,
    Spec,
}

const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "spec"];

const SPEC_FIRST: &str = "`apiVersion` and `kind` must come before `spec`";

/// Checks `apiVersion` from inside the value's own deserialisation, so that serde-saphyr
/// attaches the value's line and column to the error (it does for errors raised by a visitor,
/// not for errors raised later by the map visitor).
struct ApiVersionSeed;

impl<'de> de::DeserializeSeed<'de> for ApiVersionSeed {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for ApiVersionSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an apiVersion: {}", SUPPORTED_API_VERSIONS.join(", "))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if SUPPORTED_API_VERSIONS.contains(&v) {
            Ok(())
        } else {
            Err(E::custom(format_args!(
                "unsupported apiVersion {v:?}; supported: {}",
                SUPPORTED_API_VERSIONS.join(", ")
            )))
        }
    }
}

/// Fails on whatever value comes, with a fixed message: an error located at that value.
struct Refuse(&'static str);

impl<'de> de::DeserializeSeed<'de> for Refuse {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Refuse {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(self.0))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(self.0))
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a manifest document with apiVersion, kind and spec")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut api_seen = false;
        let mut kind: Option<Kind> = None;
        let mut doc: Option<Document> = None;
        while let Some(field) = map.next_key::<TopField>()? {
            match field {
                TopField::ApiVersion => {
                    if api_seen {
                        return Err(de::Error::duplicate_field("apiVersion"));
                    }
                    map.next_value_seed(ApiVersionSeed)?;
                    api_seen = true;
                }
                TopField::Kind => {
                    if kind.is_some() {
                        return Err(de::Error::duplicate_field("kind"));
                    }
                    kind = Some(map.next_value()?);
                }
                TopField::Spec => {
                    if doc.is_some() {
                        return Err(de::Error::duplicate_field("spec"));
                    }
                    let Some(k) = kind.filter(|_| api_seen) else {
                        // Refuse always fails; the error then carries the position of `spec`.
                        return Err(match map.next_value_seed(Refuse(SPEC_FIRST)) {
                            Err(e) => e,
                            Ok(()) => de::Error::custom(SPEC_FIRST),
                        });
                    };
                    doc = Some(match k {
                        Kind::Package => Document::Package(map.next_value()?),
                        Kind::Fleet => Document::Fleet(map.next_value()?),
                        Kind::Deployment => Document::Deployment(map.next_value()?),
                        Kind::DeploymentJob => Document::DeploymentJob(map.next_value()?),
                    });
                }
            }
        }
        if !api_seen {
            return Err(de::Error::missing_field("apiVersion"));
        }
        if kind.is_none() {
            return Err(de::Error::missing_field("kind"));
        }
        doc.ok_or_else(|| de::Error::missing_field("spec"))
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("Document", TOP_FIELDS, DocumentVisitor)
    }
}

/// The documents of a JSON manifest: one document object, or an array of them.
pub(super) struct JsonDocuments(pub(super) Vec<Document>);

struct JsonDocumentsVisitor;

impl<'de> Visitor<'de> for JsonDocumentsVisitor {
    type Value = JsonDocuments;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a manifest document or an array of manifest documents")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<JsonDocuments, A::Error> {
        DocumentVisitor
            .visit_map(map)
            .map(|d| JsonDocuments(vec![d]))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<JsonDocuments, A::Error> {
        let mut docs = Vec::new();
        while let Some(d) = seq.next_element::<Document>()? {
            docs.push(d);
        }
        Ok(JsonDocuments(docs))
    }
}

impl<'de> Deserialize<'de> for JsonDocuments {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonDocumentsVisitor)
    }
}
