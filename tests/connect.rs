//! Connecting: handshake, authentication, options applied at connect, and what is not supported.

use crate::common;

use common::*;
use host_test::driver::{ErrorKind, Host, Sandbox, Value};

#[test]
fn connects_by_ip_and_reports_server() {
    let mut s = session();
    let c = connect(&mut s);
    let version = s.server_version(c).unwrap();
    assert!(version.contains("MariaDB"), "{version}");
    assert!(!version.starts_with("5.5.5-"), "replication prefix stripped: {version}");
    let id = s.thread_id(c).unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT CONNECTION_ID()"), Value::Uint(id as u64));
}

#[test]
fn connects_by_host_name() {
    let mut s = session();
    let mut o = options(&mut s);
    o.host = "localhost".into();
    let c = s.connect(&o).unwrap().expect("connect via name lookup");
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

#[test]
fn wrong_password_is_access_denied_at_connect() {
    let mut s = session();
    let mut o = options(&mut s);
    o.passwd = "not-the-Secret-pw-123".into();
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1045));
    assert_eq!(e.sqlstate.as_deref(), Some("28000"));
    assert!(!e.message.contains("not-the-Secret-pw-123"), "password leaked: {}", e.message);
}

#[test]
fn unknown_database_is_1049() {
    let mut s = session();
    let mut o = options(&mut s);
    o.db = Some("no_such_db".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1049));
    assert_eq!(e.sqlstate.as_deref(), Some("42000"));
}

#[test]
fn unix_socket_and_named_pipe_are_not_supported() {
    let mut s = session();
    let base = options(&mut s);
    let mut variants = Vec::new();
    let mut o = base.clone();
    o.unix_socket = Some(server().socket_path().display().to_string());
    variants.push(o);
    let mut o = base.clone();
    o.named_pipe = true;
    variants.push(o);
    for o in variants {
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::NotSupported, None);
    }
}

#[test]
fn connect_timeout_is_enforced() {
    // A listener that accepts but never sends a handshake.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut s = session();
    let mut o = options(&mut s);
    o.port = port;
    o.connect_timeout = Some(0.3);
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, None);
    assert!(e.message.contains("connect_timeout"), "{e:?}");
    drop(listener);
}

#[test]
fn refused_port_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut s = session();
    let mut o = options(&mut s);
    o.port = port;
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(2003));
    // Words for people, not the WASI bindings' Debug form of the socket error.
    assert_eq!(e.message, format!("Can't connect to MySQL server on '127.0.0.1:{port}' (connection refused)"));
}

#[test]
fn defaults_charset_utf8mb4_and_autocommit_off() {
    let mut s = session();
    let c = connect(&mut s);
    assert_eq!(scalar(&mut s, c, "SELECT @@character_set_client"), text("utf8mb4"));
    assert_eq!(scalar(&mut s, c, "SELECT @@character_set_results"), text("utf8mb4"));
    assert_eq!(scalar(&mut s, c, "SELECT @@autocommit"), Value::Int(0));
    assert!(!s.get_autocommit(c).unwrap());
    s.autocommit(c, true).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT @@autocommit"), Value::Int(1));
    assert!(s.get_autocommit(c).unwrap());
}

#[test]
fn autocommit_option_is_applied() {
    let mut s = session();
    let mut o = options(&mut s);
    o.autocommit = Some(true);
    let c = s.connect(&o).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT @@autocommit"), Value::Int(1));
}

#[test]
fn sql_mode_and_init_command_are_applied() {
    let mut s = session();
    let mut o = options(&mut s);
    o.sql_mode = Some("ANSI_QUOTES,NO_BACKSLASH_ESCAPES".into());
    o.init_command = Some("SET @init_ran = 'yes'".into());
    let c = s.connect(&o).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT @@sql_mode"), text("ANSI_QUOTES,NO_BACKSLASH_ESCAPES"));
    assert_eq!(scalar(&mut s, c, "SELECT @init_ran"), text("yes"));
}

#[test]
fn read_default_file_through_a_preopened_directory() {
    let dir = std::env::temp_dir().join(format!("cymysql-wasi-cnf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let srv = server();
    std::fs::write(
        dir.join("my.cnf"),
        format!(
            "[client]\nuser = root\npassword = \"{}\"\nport = {}\nhost = 127.0.0.1\n\n[app]\ndatabase = mysql\ninit-command = SET @from_group = 1\n",
            srv.root_password, srv.port
        ),
    )
    .unwrap();
    let host = Host::shared();
    let mut s = host
        .instantiate(&Sandbox { preopens: vec![(dir.clone(), "/etc/cymysql".into())], ..Sandbox::default() })
        .unwrap();
    let mut o = s.default_options().unwrap();
    o.read_default_file = Some("/etc/cymysql/my.cnf".into());
    o.read_default_group = Some("app".into());
    let c = s.connect(&o).unwrap().expect("credentials from the option file");
    assert_eq!(scalar(&mut s, c, "SELECT DATABASE()"), text("mysql"));
    assert_eq!(scalar(&mut s, c, "SELECT @from_group"), Value::Int(1));
    // Explicit arguments win over the file.
    o.db = Some("test".into());
    let c2 = s.connect(&o).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c2, "SELECT DATABASE()"), text("test"));
    // A file the guest cannot see is a clear error, not a trap.
    o.read_default_file = Some("/nowhere/my.cnf".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn select_db_switches_the_default_database() {
    let mut s = session();
    let c = connect(&mut s);
    s.select_db(c, "mysql").unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT DATABASE()"), text("mysql"));
    let e = s.select_db(c, "no_such_db").unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1049));
    assert_eq!(
        scalar(&mut s, c, "SELECT DATABASE()"),
        text("mysql"),
        "a failed COM_INIT_DB leaves the session as it was"
    );
}

#[test]
fn unbuffered_dict_cursor_streams_keyed_rows() {
    let mut s = session();
    let c = connect(&mut s);
    let dc = s.ss_dict_cursor(c).unwrap();
    s.dict_execute(dc, "SELECT seq AS n, seq * 2 AS twice FROM seq_1_to_2500", None).unwrap().unwrap();
    assert_eq!(s.dict_rowcount(dc).unwrap(), -1, "unknown until the stream ends");
    let mut total = 0;
    loop {
        let batch = s.dict_fetchmany(dc, Some(1000)).unwrap().unwrap();
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            total += 1;
            assert_eq!(row[0].0, "n");
            assert_eq!(row[1].0, "twice");
            assert_eq!(row[0].1, Value::Uint(total));
            assert_eq!(row[1].1, Value::Uint(total * 2));
        }
    }
    assert_eq!(total, 2500);
    assert_eq!(s.dict_rowcount(dc).unwrap(), 2500);
}

/// A port where a listener waits: whether anything connected to it shows whether a byte went out.
fn silent_listener() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

#[test]
fn nul_in_the_url_is_a_programming_error_before_anything_is_sent() {
    // Written raw into HandshakeResponse41, this user name would be read by the server as user root,
    // auth response AAAAA, database evil_db and plugin evil_plugin.
    let (listener, port) = silent_listener();
    let mut s = session();
    for url in [
        format!("mysql://root%00%05AAAAAevil_db%00evil_plugin@127.0.0.1:{port}/realdb"),
        format!("mysql://root%00%00@127.0.0.1:{port}/"),
        format!("mysql://root@127.0.0.1:{port}/real%00db"),
        format!("mysql://root@127.0.0.1:{port}/test?init_command=SET+%40a%3D1%00"),
    ] {
        let e = s.options_from_url(&url).expect("no trap").unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
        assert!(e.message.contains("NUL") && !e.message.contains("evil"), "{e:?}");
    }
    // A WIT caller passing the same values directly meets the same check in connect.
    let mut o = options(&mut s);
    o.port = port;
    let mut variants = Vec::new();
    for user in ["root\0\x05AAAAAevil_db\0evil_plugin", "root\0\0"] {
        let mut v = o.clone();
        v.user = user.into();
        variants.push(v);
    }
    let mut v = o.clone();
    v.db = Some("real\0db".into());
    variants.push(v);
    let mut v = o.clone();
    v.charset = Some("utf8mb4\0".into());
    variants.push(v);
    let mut v = o.clone();
    v.sql_mode = Some("ANSI\0".into());
    variants.push(v);
    for v in variants {
        let e = s.connect(&v).expect("no trap").unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
    }
    assert!(listener.accept().is_err(), "the client connected although its options were refused");
}

#[test]
fn nul_after_root_does_not_log_in_as_root_on_the_real_server() {
    // With the real root password, `root\0\0` would have logged in as root: the server reads the
    // user name up to the first NUL.
    let mut s = session();
    let mut o = options(&mut s);
    let c = s.connect(&o).unwrap().expect("root itself logs in");
    s.close(c).unwrap().unwrap();
    for user in ["root\0\0", "root\0"] {
        o.user = user.into();
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
        assert!(e.message.starts_with("user"), "{e:?}");
    }
}

#[test]
fn select_db_with_a_nul_is_refused_and_the_connection_stays_usable() {
    let mut s = session();
    let c = connect(&mut s);
    let e = s.select_db(c, "mysql\0x").unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    assert_eq!(scalar(&mut s, c, "SELECT DATABASE()"), text("test"));
}
