//! The Rust API natively (blocking std sockets) against the test server: cursors as
//! `futures::Stream`s and the transaction guard, including a guard dropped unended.

use std::rc::Rc;

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
