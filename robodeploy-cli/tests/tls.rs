//! The API served over TLS: an address other than loopback is accepted only with a certificate,
//! a client trusting the CA (`--ca-cert`) talks to it, one that does not (or speaks plain HTTP)
//! is refused.

mod common;

use std::path::{Path, PathBuf};

use common::{Server, explain, stdout};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A CA, and a server certificate it signs for `localhost` and 127.0.0.1: the three PEM files.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "robodeploy server");
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca).expect("certificate");
    let files = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&files.0, ca.pem()).expect("write");
    std::fs::write(&files.1, cert.pem()).expect("write");
    std::fs::write(&files.2, key.serialize_pem()).expect("write");
    files
}

#[test]
fn the_api_is_served_over_tls_to_clients_that_trust_its_ca() {
    let mut server = Server::unstarted("tls");
    let (ca, cert, key) = certificates(server.dir.path());
    server.spawn_with(&[
        "--listen",
        "0.0.0.0:0",
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    let (url, _) = server.endpoint();
    assert!(url.starts_with("https://0.0.0.0:"), "{url}");
    let port = url.rsplit(':').next().expect("port").to_owned();
    // By address: a minimal root may not resolve `localhost`; the certificate names 127.0.0.1.
    let https = format!("https://127.0.0.1:{port}");

    // `get <what>` over TLS, trusting the test's CA.
    let trusted = |what: &str| {
        let ca = ca.to_str().expect("utf-8");
        server.cli(&["--server", &https, "--ca-cert", ca, "get", what])
    };
    let out = trusted("deployments");
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(stdout(&out), "No deployments.\n");

    // Not trusting the CA: the handshake fails, exit 3.
    let out = server.cli(&["--server", &https, "get", "deployments"]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    // Plain HTTP to the TLS port: no answer, exit 3.
    let out = server.cli(&[
        "--server",
        &format!("http://127.0.0.1:{port}"),
        "get",
        "deployments",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    // The server still serves after both.
    let out = trusted("jobs");
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // A key that is not the certificate's: refused at start, naming the file.
    let other = Server::unstarted("tls-bad");
    let (_, _, wrong_key) = certificates(other.dir.path());
    let out = std::process::Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
        .arg(other.state())
        .args([
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            wrong_key.to_str().expect("utf-8"),
        ])
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("--tls-key"),
        "{}",
        explain(&out)
    );
}
