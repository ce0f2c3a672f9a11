//! Test certificates: a CA and the certificates it signs, written as PEM files.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use robodeploy_zenoh::TlsFiles;

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    /// A new self-signed CA.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    /// Writes a certificate for common name `cn` valid for `names` (host names or addresses),
    /// its key and this CA's certificate under `dir`, and returns the three files.
    pub fn issue(&self, dir: &Path, cn: &str, names: &[&str]) -> TlsFiles {
        std::fs::create_dir_all(dir).unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let files = TlsFiles {
            ca: dir.join(format!("{cn}-ca.pem")),
            certificate: dir.join(format!("{cn}.pem")),
            key: dir.join(format!("{cn}.key")),
        };
        std::fs::write(&files.ca, self.issuer.pem()).unwrap();
        std::fs::write(&files.certificate, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }
}
