//! A WASI 0.3 `wasi:cli/command` that uses cymysql-wasi as a library, as in the README's "Async
//! world": it lists `users` from the database `DATABASE_URL` names. scripts/build-component builds
//! it and tests/p3_guest.rs runs it against MariaDB; the README shows this file from `use` on.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use cymysql_wasi::{client::url::parse_url, wasi::p3::WasiP3Runtime, Connection, Error, Value};

struct App;

impl wasip3::exports::cli::run::Guest for App {
    async fn run() -> Result<(), ()> {
        // A typed error: its PEP 249 class, then MySQL's code and SQLSTATE and the message
        // (never the password); the exit status is 1.
        list_users().await.map_err(|e| eprintln!("{:?}Error: {e}", e.kind()))
    }
}

async fn list_users() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").map_err(|_| Error::Programming("set DATABASE_URL".into()))?;
    let conn = Connection::connect(parse_url(&url)?, Rc::new(WasiP3Runtime)).await?;
    let mut seen = 0;
    // Rows arrive in batches as the server sends them; the socket is read again after each batch.
    let on_rows = async |rows: Vec<Vec<Value>>| {
        for row in &rows {
            if let [Value::Int(id), Value::Text(name)] = row.as_slice() {
                println!("{id} {name}");
            }
        }
        seen += rows.len();
        true
    };
    conn.query_stream("SELECT id, name FROM users ORDER BY id", None, |_columns| true, on_rows).await?;
    println!("{seen} users");
    conn.close().await
}

wasip3::cli::command::export!(App);
