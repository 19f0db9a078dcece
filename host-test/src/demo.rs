//! The demo: a throwaway MariaDB, and cymysql's examples run through the component.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Result};
use host_test::driver::{Host, Params, Sandbox, Value};
use host_test::render;
use host_test::server::TestServer;

fn ok<T>(r: Result<T, host_test::driver::DbError>) -> Result<T> {
    r.map_err(|e| anyhow!("{}", render::error(&e)))
}

pub fn run() -> Result<ExitCode> {
    let t0 = Instant::now();
    println!("== starting a throwaway MariaDB");
    let server = TestServer::start()?;
    println!("   port {}, ready in {:.1?}", server.port, t0.elapsed());

    let t1 = Instant::now();
    let host = Host::load(&host_test::driver::component_path())?;
    let mut s = host.instantiate(&Sandbox::default())?;
    println!("== component loaded and instantiated in {:.1?}", t1.elapsed());

    let conn = ok(s.connect_url(&server.url("test"))?)?;
    println!("== connected: server {} (thread {})", s.server_version(conn)?, s.thread_id(conn)?);

    println!("\n-- basic query");
    let cur = s.cursor(conn)?;
    ok(s.execute(cur, "SELECT 42 AS answer, NOW(6) AS now, CAST(-1.50 AS DECIMAL(10,2)) AS d", None)?)?;
    let cols = s.description(cur)?.unwrap_or_default();
    let rows = ok(s.fetchall(cur)?)?;
    print!("{}", render::table(&cols, &rows));

    println!("\n-- create a table and insert with executemany (one multi-row INSERT)");
    ok(s.execute(cur, "DROP TABLE IF EXISTS users", None)?)?;
    ok(s.execute(
        cur,
        "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) UNIQUE, email VARCHAR(128), balance DECIMAL(12,2), born DATE)",
        None,
    )?)?;
    let people = [
        ("alice", "1990-01-02", "12.50"),
        ("bob", "1985-05-06", "0.00"),
        ("carol", "2000-12-31", "1000000.01"),
        ("dave", "1970-01-01", "-3.25"),
        ("eve", "1999-09-09", "7.77"),
    ];
    let seq: Vec<Params> = people
        .iter()
        .map(|(name, born, bal)| {
            Params::Positional(vec![
                Value::Text(name.to_string()),
                Value::Text(format!("{name}@example.com")),
                Value::Decimal(bal.to_string()),
                Value::Text(born.to_string()),
            ])
        })
        .collect();
    let n = ok(s.executemany(cur, "INSERT INTO users (name, email, balance, born) VALUES (%s, %s, %s, %s)", &seq)?)?;
    ok(s.commit(conn)?)?;
    println!("   inserted {n} rows");

    println!("\n-- dict cursor");
    let dc = s.dict_cursor(conn)?;
    ok(s.dict_execute(
        dc,
        "SELECT id, name, balance, born FROM users WHERE balance > %s ORDER BY id",
        Some(&Params::Positional(vec![Value::Decimal("1".into())])),
    )?)?;
    for row in ok(s.dict_fetchall(dc)?)? {
        let shown: Vec<String> = row.iter().map(|(k, v)| format!("{k}: {}", render::text(v))).collect();
        println!("   {{{}}}", shown.join(", "));
    }

    println!("\n-- transaction: commit and rollback");
    ok(s.execute(
        cur,
        "UPDATE users SET balance = balance + 100 WHERE name = %(name)s",
        Some(&Params::Named(vec![("name".into(), Value::Text("bob".into()))])),
    )?)?;
    println!("   in transaction after UPDATE: {}", s.in_transaction(conn)?);
    ok(s.commit(conn)?)?;
    ok(s.execute(cur, "DELETE FROM users", None)?)?;
    println!("   deleted {} rows, then rollback", s.rowcount(cur)?);
    ok(s.rollback(conn)?)?;
    ok(s.execute(cur, "SELECT COUNT(*), (SELECT balance FROM users WHERE name = 'bob') FROM users", None)?)?;
    let row = ok(s.fetchone(cur)?)?.unwrap_or_default();
    println!(
        "   rows after rollback: {}, bob's balance after commit: {}",
        render::text(&row[0]),
        render::text(&row[1])
    );

    println!("\n-- fetchmany streaming loop (unbuffered cursor, 10,000 generated rows)");
    let ss = s.ss_cursor(conn)?;
    ok(s.execute(ss, "SELECT seq, seq * seq FROM seq_1_to_10000", None)?)?;
    let (mut batches, mut total, mut sum) = (0, 0u64, 0i128);
    loop {
        let batch = ok(s.fetchmany(ss, Some(1000))?)?;
        if batch.is_empty() {
            break;
        }
        batches += 1;
        for r in &batch {
            total += 1;
            sum += match r.get(1) {
                Some(Value::Int(i)) => *i as i128,
                Some(Value::Uint(u)) => *u as i128,
                _ => 0,
            };
        }
    }
    println!("   {total} rows in {batches} batches, sum of squares {sum}");

    println!("\n-- error handling");
    match s.execute(cur, "INSERT INTO users (name) VALUES ('alice')", None)? {
        Err(e) => println!("   duplicate key: {}", render::error(&e)),
        Ok(_) => println!("   duplicate key was accepted?!"),
    }
    match s.execute(cur, "SELEKT 1", None)? {
        Err(e) => println!("   syntax error: {}", render::error(&e)),
        Ok(_) => println!("   syntax error was accepted?!"),
    }
    ok(s.execute(cur, "SELECT 'still usable'", None)?)?;
    println!("   connection still usable: {}", render::text(&ok(s.fetchone(cur)?)?.unwrap_or_default()[0]));
    match s.connect_url(&server.url("test").replacen(&server.root_password, "wrong-password", 1))? {
        Err(e) => println!("   wrong password: {}", render::error(&e)),
        Ok(_) => println!("   wrong password was accepted?!"),
    }

    ok(s.close(conn)?)?;
    println!("\n== done in {:.1?}", t0.elapsed());
    Ok(ExitCode::SUCCESS)
}
