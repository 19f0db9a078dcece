//! Closing, broken connections, reconnecting, and servers that break the protocol.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use common::*;
use host_test::driver::{ErrorKind, Value};

#[test]
fn close_sends_quit_and_later_use_is_an_interface_error() {
    let mut s = session();
    let c = connect(&mut s);
    let id = s.thread_id(c).unwrap();
    let cur = s.cursor(c).unwrap();
    assert!(processlist_has(id));
    s.close(c).unwrap().unwrap();
    assert!(!s.is_open(c).unwrap());
    assert!(wait_gone(id), "server still has session {id} after close");
    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_kind(&e, ErrorKind::Interface, None);
    let e = s.commit(c).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    let e = s.ping(c, false).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    // Closing twice is an error, as in cymysql; ensure-closed never is.
    assert_kind(&s.close(c).unwrap().unwrap_err(), ErrorKind::Interface, None);
    s.ensure_closed(c).unwrap();
}

#[test]
fn ping_reconnects_a_closed_connection_when_asked() {
    let mut s = session();
    let c = connect(&mut s);
    let old = s.thread_id(c).unwrap();
    s.close(c).unwrap().unwrap();
    s.ping(c, true).unwrap().expect("reconnect");
    assert!(s.is_open(c).unwrap());
    assert_ne!(s.thread_id(c).unwrap(), old);
    assert_eq!(scalar(&mut s, c, "SELECT 2"), Value::Int(2));
}

#[test]
fn killed_connection_is_operational_error_then_ping_reconnects() {
    let mut s = session();
    let mut o = options(&mut s);
    o.init_command = Some("SET @marker = 'applied again'".into());
    let c = s.connect(&o).unwrap().unwrap();
    let id = s.thread_id(c).unwrap();
    let cur = s.cursor(c).unwrap();
    server().admin_sql(&format!("KILL {id}")).unwrap();
    assert!(wait_gone(id));

    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
    assert!(matches!(e.code, Some(2013) | Some(2006) | Some(1927) | Some(4031)), "{e:?}");
    assert!(!s.is_open(c).unwrap(), "a broken connection is marked broken");
    // Further use fails cleanly and fast, without touching the dead socket.
    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_kind(&e, ErrorKind::Operational, Some(2006));
    assert_kind(&s.ping(c, false).unwrap().unwrap_err(), ErrorKind::Operational, Some(2006));

    s.ping(c, true).unwrap().expect("ping(reconnect=true) reconnects");
    let new_id = s.thread_id(c).unwrap();
    assert_ne!(new_id, id);
    // The old cursor works again on the new session, with the connect-time settings re-applied.
    s.execute(cur, "SELECT @marker, CONNECTION_ID()", None).unwrap().unwrap();
    let row = s.fetchone(cur).unwrap().unwrap().unwrap();
    assert_eq!(row, vec![text("applied again"), Value::Uint(new_id as u64)]);
}

#[test]
fn server_errors_leave_the_connection_in_sync() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    for bad in ["SELEKT 1", "SELECT * FROM no_such_table", "SELECT 1 FROM DUAL WHERE no_such_column = 1"] {
        let e = exec_err(&mut s, cur, bad);
        assert_eq!(e.kind, ErrorKind::Programming, "{bad}: {e:?}");
        assert!(e.sqlstate.is_some());
        s.execute(cur, "SELECT 'in sync'", None).unwrap().unwrap();
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![text("in sync")]]);
    }
    // An error raised while rows are streaming (after some rows were sent) ends that command only.
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, "SELECT seq, IF(seq = 3000, (SELECT 1 UNION SELECT 2), seq) FROM seq_1_to_5000", None)
        .unwrap()
        .unwrap();
    let mut err = None;
    loop {
        match s.fetchmany(ss, Some(500)).unwrap() {
            Ok(b) if b.is_empty() => break,
            Ok(_) => {}
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let e = err.expect("the subquery error reaches the fetch");
    assert_eq!(e.code, Some(1242), "{e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT 'after mid-result error'"), text("after mid-result error"));
}

/// Scripted peers: a TCP listener that plays a broken server. MariaDB never sends such bytes, so
/// these exchanges cannot come from the real server.
fn scripted_peer(script: impl FnOnce(std::net::TcpStream) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            script(stream);
        }
    });
    port
}

const REAL_HANDSHAKE: &[u8] = b"\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x03\x00\x00\x00^MFXes6P\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00mWKP3MiGgREA\x00mysql_native_password\x00";

fn connect_to_scripted(port: u16) -> host_test::driver::DbError {
    let mut s = session();
    let mut o = options(&mut s);
    o.port = port;
    o.connect_timeout = Some(5.0);
    match s.connect(&o).expect("a broken server must not trap the component") {
        Ok(_) => panic!("connected to a broken server"),
        Err(e) => e,
    }
}

#[test]
fn scripted_peer_garbage_instead_of_handshake() {
    let port = scripted_peer(|mut s| {
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        thread::sleep(std::time::Duration::from_millis(200));
    });
    let e = connect_to_scripted(port);
    assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
}

#[test]
fn scripted_peer_truncated_handshakes() {
    for cut in [1, 10, 40, 60] {
        let port = scripted_peer(move |mut s| {
            let _ = s.write_all(&packet(0, &REAL_HANDSHAKE[..cut]));
            thread::sleep(std::time::Duration::from_millis(200));
        });
        let e = connect_to_scripted(port);
        assert_eq!(e.kind, ErrorKind::Operational, "cut {cut}: {e:?}");
        assert_eq!(e.code, Some(2027), "cut {cut}: malformed packet: {e:?}");
    }
}

#[test]
fn scripted_peer_closes_mid_packet() {
    let port = scripted_peer(|mut s| {
        // Announces 16 MiB - 1 bytes, sends a few, then goes away.
        let _ = s.write_all(&[0xff, 0xff, 0xff, 0x00, 0x0a, b'5']);
    });
    let e = connect_to_scripted(port);
    assert_kind(&e, ErrorKind::Operational, Some(2013));
}

#[test]
fn scripted_peer_bad_auth_replies() {
    let replies: Vec<Vec<u8>> = vec![
        packet(2, b"\x07"),                      // unknown header
        packet(2, b""),                          // empty packet
        packet(5, b"\x00\x00\x00\x02\x00"),      // wrong sequence id
        packet(2, b"\xfeunknown_plugin\x00abc"), // switch to a plugin we do not have
        packet(2, b"\x00\x00"),                  // truncated OK
    ];
    for reply in replies {
        let r = reply.clone();
        let port = scripted_peer(move |mut s| {
            let _ = s.write_all(&packet(0, REAL_HANDSHAKE));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(&r);
            thread::sleep(std::time::Duration::from_millis(200));
        });
        let e = connect_to_scripted(port);
        assert!(matches!(e.kind, ErrorKind::Operational | ErrorKind::NotSupported), "{reply:?}: {e:?}");
        assert!(e.code.is_some(), "{reply:?}: {e:?}");
    }
}

#[test]
fn scripted_peer_unknown_auth_plugin_is_named() {
    let port = scripted_peer(|mut s| {
        let _ = s.write_all(&packet(0, REAL_HANDSHAKE));
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(&packet(2, b"\xfeauth_gssapi_client\x00abc\x00"));
        thread::sleep(std::time::Duration::from_millis(200));
    });
    let e = connect_to_scripted(port);
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("auth_gssapi_client"), "{e:?}");
}

#[test]
fn load_data_local_is_off_unless_enabled() {
    use host_test::driver::{Host, Sandbox};
    let dir = std::env::temp_dir().join(format!("cymysql-wasi-infile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rows.csv"), "1,one\n2,two\n3,three\n").unwrap();
    let mut s = Host::shared()
        .instantiate(&Sandbox { preopens: vec![(dir.clone(), "/data".into())], ..Sandbox::default() })
        .unwrap();
    let c = connect(&mut s);
    fresh_table(&mut s, c, "infile_t", "id INT, name VARCHAR(10)");
    let load = "LOAD DATA LOCAL INFILE '/data/rows.csv' INTO TABLE infile_t FIELDS TERMINATED BY ','";
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, load);
    assert!(e.code.is_some(), "{e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT COUNT(*) FROM infile_t"), Value::Int(0), "nothing was sent");

    let mut o = options(&mut s);
    o.local_infile = true;
    let c2 = s.connect(&o).unwrap().unwrap();
    let cur2 = s.cursor(c2).unwrap();
    assert_eq!(s.execute(cur2, load, None).unwrap().unwrap(), 3);
    s.commit(c2).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c2, "SELECT GROUP_CONCAT(name ORDER BY id) FROM infile_t"), text("one,two,three"));
    // A file outside the preopened directories is an error, and the session stays usable.
    let e = exec_err(&mut s, cur2, "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE infile_t");
    assert_eq!(e.kind, ErrorKind::Interface, "{e:?}");
    assert_eq!(scalar(&mut s, c2, "SELECT COUNT(*) FROM infile_t"), Value::Int(3));
    std::fs::remove_dir_all(&dir).ok();
}
