//! The test PKI: a CA, a second CA, server and client certificates, made with `openssl` once per
//! test binary. Used by the TLS MariaDB and by the scripted TLS peers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// PEM texts of the test PKI, made once per test binary with `openssl`.
pub struct Pki {
    pub ca: String,
    pub other_ca: String,
    /// The certificate of `server` (names 127.0.0.1 and localhost) and its key.
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
    /// Where the files are: NAME.pem and NAME.key for ca, other_ca, server, localhost_only, client.
    pub dir: PathBuf,
}

/// Runs `openssl` in `dir` with `args` (split at spaces: no argument holds one).
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl").args(args.split_whitespace()).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&out.stderr));
}

const EC_KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

/// A self-signed CA: `NAME.pem`, `NAME.key`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &format!(
            "req -x509 {EC_KEY} -keyout {name}.key -out {name}.pem -days 2 -subj /CN=cymysql-wasi-{name} \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
    );
}

/// A leaf certificate `NAME.pem`/`NAME.key` signed by `ca`, with the given extensions.
fn make_leaf(dir: &Path, ca: &str, name: &str, extensions: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).unwrap();
    openssl(dir, &format!("req {EC_KEY} -keyout {name}.key -out {name}.csr -subj /CN={name}"));
    openssl(
        dir,
        &format!(
            "x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -out {name}.pem -days 2 \
             -extfile {name}.ext"
        ),
    );
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cymysql-wasi-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        make_ca(&dir, "ca");
        make_ca(&dir, "other_ca");
        let server_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        make_leaf(&dir, "ca", "server", &format!("{server_ext}subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
        make_leaf(&dir, "ca", "localhost_only", &format!("{server_ext}subjectAltName=DNS:localhost\n"));
        make_leaf(&dir, "ca", "client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        Pki {
            ca: read("ca.pem"),
            other_ca: read("other_ca.pem"),
            server_cert: read("server.pem"),
            server_key: read("server.key"),
            client_cert: read("client.pem"),
            client_key: read("client.key"),
            dir,
        }
    })
}
