//! Field paths: where in a document a problem is, written as the manifest spells it.

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// A field, by its manifest (camelCase) name.
    Field(&'static str),
    /// A list element.
    Index(usize),
    /// A map entry (environment variable, label, device choice), by its key.
    Key(String),
}

/// Where a value sits in a manifest document, such as
/// `spec.components[1].executables[0].env.AWS_X`.
///
/// Paths start at the document (`spec.…`), with the manifest's camelCase field names, whether the
/// value came from a manifest or was built in Rust. A map key that is not a plain identifier is
/// quoted: `spec.labels["bad key"]`.
///
/// ```
/// use robodeploy_core::validate::FieldPath;
/// let p = FieldPath::spec().field("components").index(1).field("env").key("AWS_X");
/// assert_eq!(p.to_string(), "spec.components[1].env.AWS_X");
/// assert_eq!(FieldPath::spec().field("labels").key("a b").to_string(), r#"spec.labels["a b"]"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// The empty path (the document itself).
    pub fn root() -> Self {
        FieldPath::default()
    }

    /// `spec`: where every document's own fields start.
    pub fn spec() -> Self {
        FieldPath::root().field("spec")
    }

    /// This path, then a field.
    #[must_use]
    pub fn field(&self, name: &'static str) -> Self {
        self.with(Segment::Field(name))
    }

    /// This path, then a list index.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        self.with(Segment::Index(i))
    }

    /// This path, then a map key.
    #[must_use]
    pub fn key(&self, k: impl Into<String>) -> Self {
        self.with(Segment::Key(k.into()))
    }

    /// The steps.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    fn with(&self, s: Segment) -> Self {
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.extend_from_slice(&self.segments);
        segments.push(s);
        FieldPath { segments }
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            match s {
                Segment::Field(name) if i == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if is_plain_key(k) && i > 0 => write!(f, ".{k}")?,
                Segment::Key(k) if is_plain_key(k) => f.write_str(k)?,
                Segment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}
