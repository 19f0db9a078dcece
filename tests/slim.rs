//! The component built without its optional features (scripts/build-component --slim): it still
//! speaks plain and zlib-compressed MySQL, and refuses TLS, zstd and the legacy character sets by
//! name, before the server sees a connection.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use host_test::driver::{component_path, ErrorKind, Host, Sandbox, Session, SslOptions, Value};

fn slim_path() -> PathBuf {
    if let Ok(p) = std::env::var("CYMYSQL_WASI_SLIM_COMPONENT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/guest/cymysql_driver_slim.wasm")
}

fn slim_session() -> Session {
    static HOST: OnceLock<Host> = OnceLock::new();
    let host = HOST.get_or_init(|| match Host::load(&slim_path()) {
        Ok(h) => h,
        Err(e) => panic!("cannot load the slim component (scripts/build-component --slim): {e:#}"),
    });
    host.instantiate(&Sandbox::default()).expect("instantiate the slim component")
}

fn aborted_connects() -> u64 {
    let out = server().admin_sql("SHOW GLOBAL STATUS LIKE 'Aborted_connects'").unwrap();
    out.split_whitespace().last().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"))
}

#[test]
fn slim_component_is_much_smaller() {
    let full = std::fs::metadata(component_path()).expect("full component").len();
    let slim = std::fs::metadata(slim_path()).expect("slim component").len();
    // TLS alone is about 0.9 MB of the full component.
    assert!(slim + 700_000 < full, "slim {slim} bytes, full {full} bytes");
}

#[test]
fn slim_component_queries_plain_and_with_zlib() {
    let mut s = slim_session();
    let mut o = options(&mut s);
    let c = s.connect(&o).unwrap().expect("plain connect");
    assert_eq!(scalar(&mut s, c, "SELECT 6 * 7"), Value::Int(42));
    s.close(c).unwrap().unwrap();

    o.compress = Some("zlib".into());
    let c = s.connect(&o).unwrap().expect("zlib connect");
    let r = rows(&mut s, c, "SELECT seq, REPEAT('x', 100) FROM seq_1_to_2000");
    assert_eq!(r.len(), 2000);
    assert_eq!(r[1999], vec![Value::Uint(2000), Value::Text("x".repeat(100))]);
    match rows(&mut s, c, "SHOW SESSION STATUS LIKE 'Compression'").as_slice() {
        [row] => assert_eq!(row[1], Value::Text("ON".into())),
        other => panic!("{other:?}"),
    }
    s.close(c).unwrap().unwrap();
}

#[test]
fn slim_component_refuses_tls_and_zstd_before_connecting() {
    let mut s = slim_session();
    let before = aborted_connects();
    let mut o = options(&mut s);
    o.ssl = Some(SslOptions { ca: None, cert: None, key: None, verify_cert: true, verify_identity: true });
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("TLS"), "{}", e.message);

    let mut o = options(&mut s);
    o.compress = Some("zstd".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("zstd"), "{}", e.message);
    assert_eq!(aborted_connects(), before, "the server saw a connection attempt");
}

#[test]
fn slim_component_refuses_legacy_charsets_naming_the_feature() {
    let mut s = slim_session();
    let mut o = options(&mut s);
    o.charset = Some("gbk".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("charsets feature"), "{}", e.message);
    // The built-in ones still work.
    o.charset = Some("latin1".into());
    let c = s.connect(&o).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT @@character_set_client"), Value::Text("latin1".into()));
}
