//! TLS inside the component against MariaDB started with a test CA: verification of the chain and
//! of the host name, REQUIRE SSL and REQUIRE X509 accounts, no downgrade, a 20 MiB value, and
//! mysql_clear_password, which the server asks for through the test plugin of `mariadb-test`.

use crate::common;

use std::sync::OnceLock;

use common::pki::pki;
use common::*;
use host_test::driver::{ConnectOptions, ErrorKind, Session, SslOptions, Value};
use host_test::server::TestServer;

const TLS_USER: &str = "tls_user";
const TLS_PASSWORD: &str = "tls-secret";
const X509_USER: &str = "x509_user";

/// A MariaDB serving `leaf` (a certificate of `pki()`), with the TLS-only accounts.
fn start_tls_server(leaf: &str) -> TestServer {
    let dir = &pki().dir;
    let file = |f: String| dir.join(f).display().to_string();
    let args = [
        format!("--ssl-ca={}", file("ca.pem".into())),
        format!("--ssl-cert={}", file(format!("{leaf}.pem"))),
        format!("--ssl-key={}", file(format!("{leaf}.key"))),
        // auth_test_plugin (mysql_clear_password) declares no maturity: "unknown".
        "--plugin-maturity=unknown".to_string(),
    ];
    let server = TestServer::start_with_args(&args).expect("start MariaDB with TLS");
    server
        .admin_sql(&format!(
            "CREATE USER '{TLS_USER}'@'127.0.0.1' IDENTIFIED BY '{TLS_PASSWORD}' REQUIRE SSL; \
             GRANT ALL ON test.* TO '{TLS_USER}'@'127.0.0.1'; \
             CREATE USER '{X509_USER}'@'127.0.0.1' IDENTIFIED BY '{TLS_PASSWORD}' REQUIRE X509; \
             GRANT ALL ON test.* TO '{X509_USER}'@'127.0.0.1';"
        ))
        .expect("create the TLS accounts");
    server
}

/// The server whose certificate names 127.0.0.1 and localhost.
fn tls_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| start_tls_server("server"))
}

/// The server whose certificate names localhost only.
fn localhost_only_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| start_tls_server("localhost_only"))
}

fn verified(ca: &str) -> SslOptions {
    SslOptions { ca: Some(ca.into()), cert: None, key: None, verify_cert: true, verify_identity: true }
}

/// Options for `TLS_USER` on `server`, with `ssl`.
fn tls_options(s: &mut Session, server: &TestServer, ssl: Option<SslOptions>) -> ConnectOptions {
    let mut o = s.options_from_url(&server.url("test")).unwrap().unwrap();
    o.user = TLS_USER.into();
    o.passwd = TLS_PASSWORD.into();
    o.ssl = ssl;
    o
}

fn cipher(s: &mut Session, c: host_test::driver::Conn) -> String {
    match rows(s, c, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").as_slice() {
        [row] => match row.get(1) {
            Some(Value::Text(t)) => t.clone(),
            other => panic!("Ssl_cipher value: {other:?}"),
        },
        other => panic!("{} rows", other.len()),
    }
}

#[test]
fn verified_tls_session_to_a_require_ssl_account() {
    let mut s = session();
    let o = tls_options(&mut s, tls_server(), Some(verified(&pki().ca)));
    let c = s.connect(&o).unwrap().expect("connect over TLS");
    assert!(!cipher(&mut s, c).is_empty(), "the session is not encrypted");
    assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), Value::Text(format!("{TLS_USER}@127.0.0.1")));
}

#[test]
fn require_ssl_account_without_ssl_is_denied() {
    let mut s = session();
    let o = tls_options(&mut s, tls_server(), None);
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1045));
}

#[test]
fn a_certificate_from_another_ca_is_rejected() {
    let mut s = session();
    let o = tls_options(&mut s, tls_server(), Some(verified(&pki().other_ca)));
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, None);
    assert!(e.message.contains("certificate"), "{e:?}");
}

#[test]
fn a_host_name_missing_from_the_certificate_is_rejected_unless_identity_is_not_verified() {
    let mut s = session();
    let o = tls_options(&mut s, localhost_only_server(), Some(verified(&pki().ca)));
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, None);
    assert!(e.message.contains("certificate"), "{e:?}");

    let mut ssl = verified(&pki().ca);
    ssl.verify_identity = false;
    let o = tls_options(&mut s, localhost_only_server(), Some(ssl.clone()));
    let c = s.connect(&o).unwrap().expect("chain verified, name not checked");
    assert!(!cipher(&mut s, c).is_empty());

    // The chain is still verified when the name is not.
    ssl.ca = Some(pki().other_ca.clone());
    let o = tls_options(&mut s, localhost_only_server(), Some(ssl));
    let e = s.connect(&o).unwrap().unwrap_err();
    assert!(e.message.contains("certificate"), "{e:?}");
}

#[test]
fn verify_cert_false_accepts_any_certificate() {
    let mut s = session();
    let ssl = SslOptions { ca: None, cert: None, key: None, verify_cert: false, verify_identity: false };
    let o = tls_options(&mut s, localhost_only_server(), Some(ssl));
    let c = s.connect(&o).unwrap().expect("connect without verification");
    assert!(!cipher(&mut s, c).is_empty());
}

#[test]
fn verify_cert_without_ca_is_a_programming_error() {
    let mut s = session();
    let ssl = SslOptions { ca: None, cert: None, key: None, verify_cert: true, verify_identity: true };
    let o = tls_options(&mut s, tls_server(), Some(ssl));
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
}

#[test]
fn ssl_against_a_server_without_tls_is_an_error_not_a_downgrade() {
    let mut s = session();
    let mut o = options(&mut s);
    o.ssl = Some(SslOptions { ca: None, cert: None, key: None, verify_cert: false, verify_identity: false });
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(2026));
    assert!(e.message.contains("does not offer TLS"), "{e:?}");
}

#[test]
fn client_certificate_for_a_require_x509_account() {
    let mut s = session();
    let mut o = tls_options(&mut s, tls_server(), Some(verified(&pki().ca)));
    o.user = X509_USER.into();
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1045));

    let mut ssl = verified(&pki().ca);
    ssl.cert = Some(pki().client_cert.clone());
    ssl.key = Some(pki().client_key.clone());
    o.ssl = Some(ssl);
    let c = s.connect(&o).unwrap().expect("connect with a client certificate");
    assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), Value::Text(format!("{X509_USER}@127.0.0.1")));
}

#[test]
fn a_20_mib_value_over_tls() {
    let mut s = session();
    let o = tls_options(&mut s, tls_server(), Some(verified(&pki().ca)));
    let c = s.connect(&o).unwrap().expect("connect over TLS");
    let len = 20 * 1024 * 1024;
    let value = scalar(&mut s, c, &format!("SELECT REPEAT('0123456789abcdef', {})", len / 16));
    match value {
        Value::Text(t) => {
            assert_eq!(t.len(), len);
            assert!(t.as_bytes().chunks(16).all(|c| c == b"0123456789abcdef"), "the value came back different");
        }
        other => panic!("{:?}", std::mem::discriminant(&other)),
    }
    // And a 20 MiB statement the other way.
    let sent = "x".repeat(len);
    assert_eq!(scalar(&mut s, c, &format!("SELECT LENGTH('{sent}')")), Value::Int(len as i64));
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

/// Prepared statements over TLS: prepare, a binary result, a parameter larger than one TLS record,
/// and a server error that leaves the session usable.
#[test]
fn prepared_statements_over_tls() {
    let mut s = session();
    let o = tls_options(&mut s, tls_server(), Some(verified(&pki().ca)));
    let c = s.connect(&o).unwrap().expect("connect over TLS");
    let st = s.prepare(c, "SELECT ?, LENGTH(?), CAST(? AS SIGNED)").unwrap().unwrap();
    let big = "ż".repeat(50_000);
    let cur = s.stmt_execute(st, &[Value::Text("ok".into()), Value::Text(big), Value::Int(i64::MIN)]).unwrap().unwrap();
    let rows = s.fetchall(cur).unwrap().unwrap();
    assert_eq!(rows, vec![vec![Value::Text("ok".into()), Value::Int(100_000), Value::Int(i64::MIN)]]);
    let e = s.prepare(c, "SELECT * FROM no_such_table_here").unwrap().unwrap_err();
    assert_eq!(e.code, Some(1146), "{e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

// ---------------------------------------------------------------------------------------------
// mysql_clear_password against the real server. MariaDB's auth_test_plugin (package mariadb-test)
// holds cleartext_plugin_server, which asks the client for mysql_clear_password and compares what
// it receives with the account's authentication string. The server's default plugin is
// mysql_native_password, so every login goes through an AuthSwitchRequest.

const CLEAR_USER: &str = "clear_user";
const CLEAR_PASSWORD: &str = "clear-Secret-7";
const CLEAR_EMPTY_USER: &str = "clear_empty";

/// Installs auth_test_plugin in the TLS server and creates the clear-text accounts, once.
fn cleartext_users() -> &'static TestServer {
    static READY: OnceLock<()> = OnceLock::new();
    let server = tls_server();
    READY.get_or_init(|| {
        let installed = server
            .admin_sql("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'cleartext_plugin_server'")
            .unwrap();
        if installed.trim() == "0" {
            server
                .admin_sql("INSTALL SONAME 'auth_test_plugin'")
                .expect("auth_test_plugin.so from mariadb-test (scripts/setup installs it)");
        }
        server
            .admin_sql(&format!(
                "CREATE OR REPLACE USER '{CLEAR_USER}'@'127.0.0.1' IDENTIFIED VIA cleartext_plugin_server AS \
                 '{CLEAR_PASSWORD}'; \
                 CREATE OR REPLACE USER '{CLEAR_EMPTY_USER}'@'127.0.0.1' IDENTIFIED VIA cleartext_plugin_server AS ''; \
                 GRANT ALL ON test.* TO '{CLEAR_USER}'@'127.0.0.1', '{CLEAR_EMPTY_USER}'@'127.0.0.1'"
            ))
            .unwrap();
    });
    server
}

fn cleartext_options(s: &mut Session, user: &str, passwd: &str, ssl: Option<SslOptions>) -> ConnectOptions {
    let mut o = tls_options(s, cleartext_users(), ssl);
    o.user = user.into();
    o.passwd = passwd.into();
    o
}

#[test]
fn cleartext_plugin_server_over_tls() {
    let mut s = session();
    let o = cleartext_options(&mut s, CLEAR_USER, CLEAR_PASSWORD, Some(verified(&pki().ca)));
    let c = s.connect(&o).unwrap().expect("mysql_clear_password inside TLS");
    assert!(!cipher(&mut s, c).is_empty(), "the session is not encrypted");
    assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), Value::Text(format!("{CLEAR_USER}@127.0.0.1")));
}

#[test]
fn cleartext_plugin_server_wrong_password_over_tls_is_1045() {
    let mut s = session();
    for passwd in ["clear-secret-7", "", "clear-Secret-7 "] {
        let o = cleartext_options(&mut s, CLEAR_USER, passwd, Some(verified(&pki().ca)));
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Operational, Some(1045));
    }
}

#[test]
fn cleartext_plugin_server_empty_password_over_tls() {
    let mut s = session();
    let o = cleartext_options(&mut s, CLEAR_EMPTY_USER, "", Some(verified(&pki().ca)));
    let c = s.connect(&o).unwrap().expect("an empty password is a lone NUL");
    assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), Value::Text(format!("{CLEAR_EMPTY_USER}@127.0.0.1")));
    let o = cleartext_options(&mut s, CLEAR_EMPTY_USER, "x", Some(verified(&pki().ca)));
    assert_kind(&s.connect(&o).unwrap().unwrap_err(), ErrorKind::Operational, Some(1045));
}

#[test]
fn cleartext_plugin_server_without_tls_is_refused_naming_the_plugin() {
    let mut s = session();
    let o = cleartext_options(&mut s, CLEAR_USER, CLEAR_PASSWORD, None);
    assert!(!o.allow_cleartext_password, "off by default");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    assert!(e.message.contains("mysql_clear_password"), "{e:?}");
    assert!(!e.message.contains(CLEAR_PASSWORD), "{e:?}");
}

#[test]
fn cleartext_plugin_server_without_tls_when_allowed() {
    let mut s = session();
    let mut o = cleartext_options(&mut s, CLEAR_USER, CLEAR_PASSWORD, None);
    o.allow_cleartext_password = true;
    let c = s.connect(&o).unwrap().expect("clear text over plain TCP, as asked");
    assert!(cipher(&mut s, c).is_empty(), "the session was meant to be plain TCP");
    assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), Value::Text(format!("{CLEAR_USER}@127.0.0.1")));
    o.passwd = "wrong".into();
    assert_kind(&s.connect(&o).unwrap().unwrap_err(), ErrorKind::Operational, Some(1045));
    // The URL form of the option.
    let url = format!("{}?allow_cleartext_password=true", cleartext_users().url("test"));
    let o = s.options_from_url(&url).unwrap().unwrap();
    assert!(o.allow_cleartext_password);
}
