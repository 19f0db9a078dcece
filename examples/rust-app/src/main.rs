//! A Rust `wasi:cli` command that uses the driver as a component: it imports
//! `cymysql:aio/connection` and `cymysql:aio/pool` and is composed with the driver's component
//! (`host-test compose`, or `wac plug`). It keeps an order book in a table of its own: a
//! transaction inserts the orders with parameters, a dict cursor reads them back, and a pool
//! runs the summary. tests/rust_app.rs runs it against MariaDB; the README shows it.

#[cfg(target_arch = "wasm32")]
mod app {
    wit_bindgen::generate!({
        inline: "
            package example:rust-app;
            world app {
                import cymysql:aio/connection@0.1.0;
                import cymysql:aio/pool@0.1.0;
            }
        ",
        path: "../../wit",
        generate_all,
    });

    use cymysql::aio::connection::{options_from_url, Connection};
    use cymysql::aio::pool::Pool;
    use cymysql::aio::types::{Error, ErrorKind, Params, Value};

    pub fn main() -> Result<(), Error> {
        let url = std::env::var("DATABASE_URL").map_err(|_| Error {
            kind: ErrorKind::Programming,
            code: None,
            sqlstate: None,
            message: "set DATABASE_URL, e.g. mysql://user:password@127.0.0.1:3306/shop".into(),
            retryable: false,
        })?;
        let options = options_from_url(&url)?;

        let conn = Connection::connect(&options)?;
        let cur = conn.cursor();
        cur.execute(
            "CREATE TABLE IF NOT EXISTS rust_app_orders (id INT AUTO_INCREMENT PRIMARY KEY, \
             customer VARCHAR(40), total DECIMAL(10,2))",
            None,
        )?;
        cur.execute("DELETE FROM rust_app_orders", None)?;
        // Parameters travel as values; the driver escapes them for the connection's charset.
        let orders = [("Zoë", "12.50"), ("O'Brien", "7.25"), ("Zoë", "30.00")];
        let rows: Vec<Params> = orders
            .iter()
            .map(|(who, total)| {
                Params::Positional(vec![Value::Text(who.to_string()), Value::Decimal(total.to_string())])
            })
            .collect();
        cur.executemany("INSERT INTO rust_app_orders (customer, total) VALUES (%s, %s)", &rows)?;
        conn.commit()?;

        let dict = conn.dict_cursor();
        dict.execute("SELECT customer, total FROM rust_app_orders ORDER BY id", None)?;
        for row in dict.fetchall()? {
            let fields: Vec<String> = row.iter().map(|(name, value)| format!("{name}={}", show(value))).collect();
            println!("{}", fields.join(" "));
        }
        conn.close()?;

        let pool = Pool::create_pool(&options, 1, 2, None)?;
        let pooled = pool.acquire()?;
        let cur = pooled.cursor();
        let who = Params::Positional(vec![Value::Text("Zoë".into())]);
        cur.execute("SELECT COUNT(*), SUM(total) FROM rust_app_orders WHERE customer = %s", Some(&who))?;
        if let Some(row) = cur.fetchone()? {
            println!("Zoë: {} orders, {} in all", show(&row[0]), show(&row[1]));
        }
        pool.release(pooled);
        pool.close();
        pool.wait_closed()
    }

    /// PEP 249's name for the kind, as cymysql raises it.
    pub fn class_name(kind: ErrorKind) -> &'static str {
        match kind {
            ErrorKind::Interface => "InterfaceError",
            ErrorKind::Database => "DatabaseError",
            ErrorKind::Data => "DataError",
            ErrorKind::Operational => "OperationalError",
            ErrorKind::Integrity => "IntegrityError",
            ErrorKind::Internal => "InternalError",
            ErrorKind::Programming => "ProgrammingError",
            ErrorKind::NotSupported => "NotSupportedError",
        }
    }

    fn show(v: &Value) -> String {
        match v {
            Value::Null => "NULL".into(),
            Value::Int(i) => i.to_string(),
            Value::Uint(u) => u.to_string(),
            Value::Decimal(d) | Value::Text(d) => d.clone(),
            other => format!("{other:?}"),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() -> std::process::ExitCode {
    match app::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The classic form for people at a terminal: class, (code, 'SQLSTATE'), message.
            let code =
                e.code.map_or(String::new(), |c| format!("({c}, '{}') ", e.sqlstate.as_deref().unwrap_or("HY000")));
            eprintln!("{}: {code}{}", app::class_name(e.kind), e.message);
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("cymysql-rust-app is a wasm32-wasip2 command: build it with scripts/build-component");
}
