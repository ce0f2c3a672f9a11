//! Content digests of download condition files (RoboMaker's etag lock, here `sha256:<hex>`).

use sha2::{Digest, Sha256};

/// The `sha256:<hex>` digest of a file's content.
pub(crate) async fn file_digest(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(digest_of(&bytes))
}

/// The `sha256:<hex>` digest of bytes.
pub(crate) fn digest_of(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn digest_of_nothing_is_sha256_of_the_empty_string() {
        assert_eq!(
            super::digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
