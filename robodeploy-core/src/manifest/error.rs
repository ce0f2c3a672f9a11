//! Errors reading and writing manifests.

use std::fmt;
use std::path::{Path, PathBuf};

/// The two manifest syntaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// YAML, several documents separated by `---`.
    Yaml,
    /// JSON: one document object or an array of documents.
    Json,
}

impl Format {
    /// The format a file name's extension says (`.yaml`/`.yml`, `.json`), if it says one.
    ///
    /// ```
    /// use robodeploy_core::manifest::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::from_path(Path::new("fleet.yml")), Some(Format::Yaml));
    /// assert_eq!(Format::from_path(Path::new("fleet.txt")), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The format a text looks like: JSON when its first non-blank character is `{` or `[`,
    /// YAML otherwise. (A YAML file written entirely in flow style is therefore read as JSON;
    /// name it `.yaml` to say otherwise.)
    pub fn detect(text: &str) -> Format {
        match text
            .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
            .chars()
            .next()
        {
            Some('{' | '[') => Format::Json,
            _ => Format::Yaml,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        })
    }
}

/// A line and column in a manifest's text, both counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The underlying parser's or serialiser's own error, kept whole as the source (boxed: the
/// parsers' errors are large and most results are `Ok`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// From serde-saphyr, reading YAML.
    #[error(transparent)]
    Yaml(Box<serde_saphyr::Error>),
    /// From serde-saphyr, writing YAML.
    #[error(transparent)]
    YamlWrite(Box<serde_saphyr::SerializeError>),
    /// From serde_json, reading or writing JSON.
    #[error(transparent)]
    Json(Box<serde_json::Error>),
}

impl From<serde_saphyr::SerializeError> for SyntaxError {
    fn from(e: serde_saphyr::SerializeError) -> Self {
        SyntaxError::YamlWrite(Box::new(e))
    }
}

impl From<serde_json::Error> for SyntaxError {
    fn from(e: serde_json::Error) -> Self {
        SyntaxError::Json(Box::new(e))
    }
}

/// Why a manifest could not be read or written.
///
/// Parse errors name the file (when the manifest was loaded from one), the line and column, and
/// what is wrong:
///
/// ```
/// use robodeploy_core::manifest::{Manifest, Position};
/// let err = Manifest::parse_yaml("apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: lab\n  robotz: []\n")
///     .unwrap_err();
/// assert_eq!(err.position(), Some(Position { line: 5, column: 3 }));
/// assert!(err.to_string().starts_with("YAML line 5, column 3: unknown field `robotz`"), "{err}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read manifest: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid manifest: a syntax error, an unknown or duplicate key, a missing
    /// field, a value of the wrong type, an unsupported `apiVersion` or `kind`.
    #[error("{}{message}", Origin { file: file.as_deref(), format: *format, position: *position })]
    Parse {
        /// The file, when the manifest was loaded from one.
        file: Option<PathBuf>,
        /// The syntax it was read as.
        format: Format,
        /// Where the problem is, when the parser knows.
        position: Option<Position>,
        /// What is wrong, without the position.
        message: String,
        /// The parser's own error.
        #[source]
        source: SyntaxError,
    },
    /// The text holds no document at all.
    #[error("{}the manifest holds no documents", Origin { file: file.as_deref(), format: *format, position: None })]
    NoDocuments {
        /// The file, when the manifest was loaded from one.
        file: Option<PathBuf>,
        /// The syntax it was read as.
        format: Format,
    },
    /// The manifest could not be written (a value that has no representation, such as a
    /// duration beyond what a span can hold).
    #[error("cannot write the manifest as {format}: {source}")]
    Write {
        /// The syntax being written.
        format: Format,
        /// The serialiser's own error.
        #[source]
        source: SyntaxError,
    },
}

impl ManifestError {
    /// Where a parse error is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            ManifestError::Parse { position, .. } => *position,
            _ => None,
        }
    }

    /// The file concerned, when the manifest came from one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            ManifestError::Io { path, .. } => Some(path),
            ManifestError::Parse { file, .. } | ManifestError::NoDocuments { file, .. } => {
                file.as_deref()
            }
            ManifestError::Write { .. } => None,
        }
    }

    /// Names the file the manifest came from (parse functions do not know it; `load` sets it).
    pub(super) fn in_file(mut self, path: &Path) -> Self {
        if let ManifestError::Parse { file, .. } | ManifestError::NoDocuments { file, .. } =
            &mut self
        {
            *file = Some(path.to_path_buf());
        }
        self
    }

    pub(super) fn from_yaml(err: serde_saphyr::Error) -> Self {
        let position = err.location().filter(|l| l.line() > 0).map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        let message = super::wording::for_people(&yaml_message(&err));
        ManifestError::Parse {
            file: None,
            format: Format::Yaml,
            position,
            message,
            source: SyntaxError::Yaml(Box::new(err)),
        }
    }

    pub(super) fn from_json(err: serde_json::Error) -> Self {
        // serde_json says column 0 for the end of input just after a newline; that is where
        // column 1 of the next line would be.
        let position = (err.line() > 0).then(|| Position {
            line: err.line() as u64,
            column: err.column().max(1) as u64,
        });
        // serde_json appends " at line L column C" to its Display; the position is shown in
        // front instead, so keep only the message.
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) if position.is_some() => text[..i].to_owned(),
            _ => text,
        };
        let message = super::wording::for_people(&message);
        ManifestError::Parse {
            file: None,
            format: Format::Json,
            position,
            message,
            source: SyntaxError::Json(Box::new(err)),
        }
    }
}

/// The message of a serde-saphyr error without its snippet and location suffix, with control
/// characters escaped (the message may quote user text).
fn yaml_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    let msg = serde_saphyr::DefaultMessageFormatter.format_message(err.without_snippet());
    let mut out = String::with_capacity(msg.len());
    for c in msg.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// "file:line:column: " or "YAML line L, column C: " in front of a message.
struct Origin<'a> {
    file: Option<&'a Path>,
    format: Format,
    position: Option<Position>,
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file, self.position) {
            (Some(file), Some(p)) => write!(f, "{}:{}:{}: ", file.display(), p.line, p.column),
            (Some(file), None) => write!(f, "{}: ", file.display()),
            (None, Some(p)) => write!(f, "{} line {}, column {}: ", self.format, p.line, p.column),
            (None, None) => write!(f, "{}: ", self.format),
        }
    }
}
