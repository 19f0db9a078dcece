//! The Rust API natively (blocking std sockets) against the test server: cursors as
//! `futures::Stream`s, the transaction guard, including a guard dropped unended, and a statement
//! listener.

use std::cell::RefCell;
use std::rc::Rc;

use cymysql_wasi::client::events::{ConnectEvent, EventOptions, Listener, StatementEvent, StatementText};
use cymysql_wasi::client::native::NativeRuntime;
use cymysql_wasi::client::url::parse_url;
use cymysql_wasi::{Connection, Error, Value};
use futures::executor::block_on;
use futures::{StreamExt, TryStreamExt};
use host_test::server;

fn connect() -> Connection {
    let url = server::shared().url("test");
    block_on(Connection::connect(parse_url(&url).unwrap(), Rc::new(NativeRuntime))).unwrap()
}

fn count(conn: &Connection, table: &str) -> Value {
    block_on(async {
        // A fresh snapshot: autocommit is off, as in cymysql.
        conn.commit().await.unwrap();
        let mut c = conn.cursor();
        c.execute(&format!("SELECT COUNT(*) FROM {table}"), None).await.unwrap();
        c.fetchone().await.unwrap().unwrap().remove(0)
    })
}

fn fresh(conn: &Connection, table: &str) {
    block_on(async {
        let mut c = conn.cursor();
        c.execute(&format!("DROP TABLE IF EXISTS {table}"), None).await.unwrap();
        c.execute(&format!("CREATE TABLE {table} (id INT PRIMARY KEY)"), None).await.unwrap();
    });
}

fn insert(conn: &Connection, table: &str, id: i64) -> Result<u64, Error> {
    block_on(async {
        let mut c = conn.cursor();
        c.execute(&format!("INSERT INTO {table} VALUES ({id})"), None).await
    })
}

#[test]
fn buffered_and_unbuffered_cursors_are_streams_of_rows() {
    let conn = connect();
    block_on(async {
        let sql = "SELECT seq FROM seq_1_to_5";
        let mut c = conn.cursor();
        c.execute(sql, None).await.unwrap();
        let rows: Vec<Vec<Value>> = c.rows().try_collect().await.unwrap();
        assert_eq!(rows, (1..=5).map(|n| vec![Value::UInt(n)]).collect::<Vec<_>>());
        let mut ss = conn.ss_cursor();
        ss.execute(sql, None).await.unwrap();
        let firsts: Vec<_> = ss.rows().take(2).collect().await;
        assert_eq!(firsts.len(), 2);
        // The stream resumes where it stopped, and ends with the result.
        let rest: Vec<Vec<Value>> = ss.rows().try_collect().await.unwrap();
        assert_eq!(rest, (3..=5).map(|n| vec![Value::UInt(n)]).collect::<Vec<_>>());
        let mut d = conn.dict_cursor();
        d.execute("SELECT 1 AS a", None).await.unwrap();
        let rows: Vec<_> = d.rows().try_collect().await.unwrap();
        assert_eq!(rows[0].get("a"), Some(&Value::Int(1)));
    });
}

#[test]
fn transaction_guard_commits_on_success_and_rolls_back_on_error_or_drop() {
    let conn = connect();
    let reader = connect();
    fresh(&conn, "native_tx");
    // Success: committed, visible to another session.
    let n = block_on(conn.transaction(async |c| {
        let mut cur = c.cursor();
        cur.execute("INSERT INTO native_tx VALUES (1)", None).await
    }))
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count(&reader, "native_tx"), Value::Int(1));
    // An error: rolled back, the error returned.
    let e = block_on(conn.transaction(async |c| {
        let mut cur = c.cursor();
        cur.execute("INSERT INTO native_tx VALUES (2)", None).await?;
        cur.execute("INSERT INTO native_tx VALUES (1)", None).await
    }))
    .unwrap_err();
    assert!(matches!(e, Error::Server { code: 1062, .. }), "{e:?}");
    assert_eq!(count(&conn, "native_tx"), Value::Int(1));
    // Dropped unended: the next use rolls back before anything else, so a later COMMIT does not
    // commit the abandoned work.
    {
        let _tx = block_on(conn.begin_transaction()).unwrap();
        insert(&conn, "native_tx", 3).unwrap();
    }
    block_on(conn.commit()).unwrap();
    assert_eq!(count(&reader, "native_tx"), Value::Int(1));
    assert!(!conn.in_transaction());
    // An explicit commit through the guard.
    let tx = block_on(conn.begin_transaction()).unwrap();
    insert(&conn, "native_tx", 4).unwrap();
    block_on(tx.commit()).unwrap();
    assert_eq!(count(&reader, "native_tx"), Value::Int(2));
}

/// Keeps every event it is given.
#[derive(Default)]
struct Recorder {
    statements: RefCell<Vec<StatementEvent>>,
    connects: RefCell<Vec<ConnectEvent>>,
}

impl Listener for Recorder {
    fn on_statement(&self, event: &StatementEvent) {
        self.statements.borrow_mut().push(event.clone());
    }

    fn on_connect(&self, event: &ConnectEvent) {
        self.connects.borrow_mut().push(event.clone());
    }
}

fn connect_listened(recorder: &Rc<Recorder>, text: StatementText) -> Connection {
    let mut o = parse_url(&server::shared().url("test")).unwrap();
    o.events = EventOptions { listener: Some(recorder.clone()), statement_text: text };
    block_on(Connection::connect(o, Rc::new(NativeRuntime))).unwrap()
}

#[test]
fn a_listener_hears_every_statement_with_its_outcome_and_no_parameter_by_default() {
    let recorder = Rc::new(Recorder::default());
    let conn = connect_listened(&recorder, StatementText::Digest);
    let port = server::shared().port;
    {
        let connects = recorder.connects.borrow();
        assert_eq!(connects.len(), 1);
        assert_eq!(connects[0].host, format!("127.0.0.1:{port}"));
        assert_eq!((connects[0].connection_id, connects[0].error.clone()), (conn.thread_id(), None));
    }
    fresh(&conn, "native_events");
    recorder.statements.borrow_mut().clear();
    let secret = Value::Text("s3cret-param".into());
    block_on(async {
        let mut c = conn.cursor();
        let p = cymysql_wasi::Params::Positional(vec![Value::Int(7)]);
        c.execute("INSERT INTO native_events VALUES (%s), (8)", Some(&p)).await.unwrap();
        c.execute("SELECT id FROM native_events WHERE id > 0", None).await.unwrap();
        let p = cymysql_wasi::Params::Positional(vec![secret.clone()]);
        let e = c.execute("SELECT nosuch FROM native_events WHERE id = %s", Some(&p)).await.unwrap_err();
        assert!(matches!(e, Error::Server { code: 1054, .. }), "{e:?}");
        let mut ss = conn.ss_cursor();
        ss.execute("SELECT id FROM native_events", None).await.unwrap();
        ss.close().await.unwrap();
        c.execute_prepared("SELECT id FROM native_events WHERE id = %s", Some(&p)).await.unwrap();
        conn.commit().await.unwrap();
    });
    let events = recorder.statements.borrow().clone();
    let seen: Vec<(&str, Option<u64>, u64, Option<u16>)> = events
        .iter()
        .map(|e| (e.text.as_str(), e.rows, e.affected_rows, e.error.as_ref().and_then(Error::code)))
        .collect();
    assert_eq!(
        seen,
        [
            ("INSERT INTO native_events VALUES (...)", Some(0), 2, None),
            ("SELECT id FROM native_events WHERE id > ?", Some(2), 0, None),
            ("SELECT nosuch FROM native_events WHERE id = ?", Some(0), 0, Some(1054)),
            ("SELECT id FROM native_events", None, 0, None),
            ("SELECT id FROM native_events WHERE id = ?", Some(0), 0, None),
            ("COMMIT", Some(0), 0, None),
        ]
    );
    let failed = events[2].error.as_ref().unwrap();
    assert_eq!(failed.sqlstate(), Some("42S22"));
    for e in &events {
        assert_eq!((e.host.as_str(), e.connection_id), (format!("127.0.0.1:{port}").as_str(), conn.thread_id()));
        assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
    }

    // Asked for, the full text shows the parameters; a password never shows.
    let recorder = Rc::new(Recorder::default());
    let conn = connect_listened(&recorder, StatementText::Full);
    block_on(async {
        let mut c = conn.cursor();
        let p = cymysql_wasi::Params::Positional(vec![secret.clone()]);
        c.execute("SELECT %s", Some(&p)).await.unwrap();
        let p = cymysql_wasi::Params::Positional(vec![Value::Text("pw-never-shown".into())]);
        // Fails (no such user) after the server parsed it: the event is still reported.
        let _ = c.execute("ALTER USER 'nobody_obs'@'localhost' IDENTIFIED BY %s", Some(&p)).await;
    });
    let texts: Vec<String> = recorder.statements.borrow().iter().map(|e| e.text.clone()).collect();
    assert_eq!(texts, ["SELECT 's3cret-param'", "ALTER USER ?@? IDENTIFIED BY ?"]);
}

#[test]
fn converters_decode_by_column_type_and_encode_by_value_kind() {
    use cymysql_wasi::client::converters::Converters;
    use cymysql_wasi::protocol::constants::column_type::{MYSQL_TYPE_LONG, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_NEWDECIMAL};
    use cymysql_wasi::protocol::escape::escape_string_into;
    use cymysql_wasi::protocol::value::ValueKind;
    use cymysql_wasi::Params;

    // Integers tagged with their column name, and one value refused.
    let tagged = |column: &cymysql_wasi::protocol::column::Column, raw: &[u8]| {
        if raw == b"13" {
            return Err("13 is refused".to_string());
        }
        Ok(Value::Text(format!("{}={}", column.name, String::from_utf8_lossy(raw))))
    };
    // DECIMAL as integer cents (cymysql's conv[FIELD_TYPE.NEWDECIMAL]); text parameters
    // upper-cased before escaping (cymysql's encoders[str]).
    let converters = Converters::new()
        .decoder(MYSQL_TYPE_NEWDECIMAL, |_, raw| {
            let text = std::str::from_utf8(raw).map_err(|e| e.to_string())?;
            let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
            let cents = format!("{whole}{frac:0<2}").parse::<i64>().map_err(|e| format!("{text}: {e}"))?;
            Ok(Value::Int(cents))
        })
        .decoder(MYSQL_TYPE_LONG, tagged)
        .decoder(MYSQL_TYPE_LONGLONG, tagged)
        .encoder(ValueKind::Text, |v, mode| {
            let Value::Text(s) = v else { return Err("text only".into()) };
            let mut out = String::from("'");
            escape_string_into(&mut out, &s.to_uppercase(), mode);
            out.push('\'');
            Ok(out)
        });
    let mut options = parse_url(&server::shared().url("test")).unwrap();
    options.converters = converters.clone();
    let conn = block_on(Connection::connect(options, Rc::new(NativeRuntime))).unwrap();
    block_on(async {
        let sql = "SELECT CAST(12.5 AS DECIMAL(6,2)) AS d, CAST(7 AS INT) AS i, CAST(NULL AS INT) AS n, 1.5e0 AS f";
        let expected = vec![Value::Int(1250), Value::Text("i=7".into()), Value::Null, Value::Double(1.5)];
        let mut c = conn.cursor();
        c.execute(sql, None).await.unwrap();
        assert_eq!(c.fetchall().await.unwrap(), vec![expected.clone()]);
        // The binary protocol gives the decoders the same text.
        c.execute_prepared(sql, Some(&Params::Positional(vec![]))).await.unwrap();
        assert_eq!(c.fetchall().await.unwrap(), vec![expected]);
        // Encoders shape the statement; the value is still escaped.
        let p = Params::Positional(vec![Value::Text("it's".into()), Value::Int(2)]);
        assert_eq!(c.mogrify("SELECT %s, %s", Some(&p)).await.unwrap(), "SELECT 'IT\\'S', 2");
        c.execute("SELECT %s", Some(&Params::Positional(vec![Value::Text("abc".into())]))).await.unwrap();
        assert_eq!(c.fetchall().await.unwrap(), vec![vec![Value::Text("ABC".into())]]);
        // executemany's batched INSERT uses them too.
        c.execute("CREATE TEMPORARY TABLE conv_t (s VARCHAR(10))", None).await.unwrap();
        let rows =
            [Params::Positional(vec![Value::Text("x".into())]), Params::Positional(vec![Value::Text("y".into())])];
        c.executemany("INSERT INTO conv_t VALUES (%s)", &rows).await.unwrap();
        c.execute("SELECT s FROM conv_t ORDER BY s", None).await.unwrap();
        assert_eq!(c.fetchall().await.unwrap(), vec![vec![Value::Text("X".into())], vec![Value::Text("Y".into())]]);
        // A decoder's error is a data error; the connection stays usable.
        let e = c.execute("SELECT seq FROM seq_10_to_20", None).await.unwrap_err();
        assert!(matches!(&e, Error::Data(m) if m == "13 is refused"), "{e:?}");
        assert_eq!(c.rowcount(), -1);
        // The driver's own statements read values as sent: SHOW WARNINGS' code is an INT column.
        c.execute("SELECT 1/0", None).await.unwrap();
        let w = conn.show_warnings().await.unwrap();
        assert_eq!(w.first().map(|w| w.code), Some(1365), "{w:?}");
        // Converters set on the connection replace those of the options.
        assert_eq!(conn.converters().await, converters);
        conn.set_converters(Converters::new()).await;
        c.execute("SELECT CAST(7 AS INT)", None).await.unwrap();
        assert!(matches!(c.fetchall().await.unwrap().as_slice(), [row] if row == &[Value::Int(7)]));
    });
}
