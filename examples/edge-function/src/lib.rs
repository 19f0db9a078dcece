//! An edge function: a `wasi:http/incoming-handler` that serves an order book as JSON from
//! MariaDB. It imports `cymysql:aio/connection` and is composed with the driver's component
//! (`host-test compose`, or `wac plug`), then served by `host-test serve` or `wasmtime serve`.
//!
//! `GET /orders?customer=NAME&limit=N` answers `{"orders":[{"id":1,"customer":"Zoë",
//! "total":"12.50","placed":"2024-02-29 23:59:59.123456"},...]}`. The database is named by the
//! `DATABASE_URL` variable of the component's environment. Each request connects and closes: an
//! instance lives for one request under `wasmtime serve`, so there is nothing to keep a pool in.
//! tests/edge_function.rs serves it and queries it over HTTP; the README shows it.

#[cfg(target_arch = "wasm32")]
mod handler {
    wit_bindgen::generate!({
        inline: "
            package example:edge-function;
            world app {
                import cymysql:aio/connection@0.1.0;
            }
        ",
        path: "../../wit",
        generate_all,
    });

    use std::io::Write as _;

    use cymysql::aio::connection::{options_from_url, Connection};
    use cymysql::aio::types::{Error, ErrorKind, Params, Value};
    use serde_json::{json, Map, Value as Json};
    use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};

    /// The most orders one response carries, and the default.
    const MAX_LIMIT: u32 = 100;

    pub struct Handler;

    impl wasi::exports::http::incoming_handler::Guest for Handler {
        fn handle(request: IncomingRequest, out: ResponseOutparam) {
            let (status, body) = route(&request);
            respond(out, status, &body);
        }
    }

    wasi::http::proxy::export!(Handler);

    /// What went wrong, as the HTTP status and JSON body it becomes.
    enum Failure {
        BadRequest(String),
        NotFound,
        MethodNotAllowed,
        Database(Error),
    }

    fn route(request: &IncomingRequest) -> (u16, Json) {
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let answered = match (request.method(), path) {
            (Method::Get, "/orders") => orders(query),
            (_, "/orders") => Err(Failure::MethodNotAllowed),
            _ => Err(Failure::NotFound),
        };
        match answered {
            Ok(body) => (200, body),
            Err(failure) => failure_response(failure),
        }
    }

    fn failure_response(failure: Failure) -> (u16, Json) {
        match failure {
            Failure::BadRequest(why) => (400, json!({"error": {"kind": "bad-request", "message": why}})),
            Failure::NotFound => (404, json!({"error": {"kind": "not-found"}})),
            Failure::MethodNotAllowed => (405, json!({"error": {"kind": "method-not-allowed"}})),
            Failure::Database(e) => {
                // The server's words go to the log, not to whoever sent the request: they can
                // name tables, users and hosts. The record's fields are enough to act on.
                eprintln!("orders: {} ({:?}, {:?}): {}", kind_name(e.kind), e.code, e.sqlstate, e.message);
                let status = if e.kind == ErrorKind::Operational { 503 } else { 500 };
                let body = json!({"error": {
                    "kind": kind_name(e.kind),
                    "code": e.code,
                    "sqlstate": e.sqlstate,
                    "retryable": e.retryable,
                }});
                (status, body)
            }
        }
    }

    /// `GET /orders`: the orders, oldest first, of one customer or of all.
    fn orders(query: &str) -> Result<Json, Failure> {
        let mut customer = None;
        let mut limit = MAX_LIMIT;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "customer" => customer = Some(value.into_owned()),
                "limit" => {
                    limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| Failure::BadRequest(format!("limit must be 1 to {MAX_LIMIT}")))?
                }
                other => return Err(Failure::BadRequest(format!("unknown parameter '{other}'"))),
            }
        }
        let url = std::env::var("DATABASE_URL").map_err(|_| {
            Failure::Database(Error {
                kind: ErrorKind::Interface,
                code: None,
                sqlstate: None,
                message: "DATABASE_URL is not set".into(),
                retryable: false,
            })
        })?;
        let rows = read_orders(&url, customer, limit).map_err(Failure::Database)?;
        Ok(json!({ "orders": rows }))
    }

    fn read_orders(url: &str, customer: Option<String>, limit: u32) -> Result<Vec<Json>, Error> {
        let conn = Connection::connect(&options_from_url(url)?)?;
        let cur = conn.dict_cursor();
        // The customer travels as a parameter; the driver escapes it for the connection.
        let (filter, mut params) = match customer {
            Some(name) => ("WHERE customer = %s", vec![Value::Text(name)]),
            None => ("", Vec::new()),
        };
        params.push(Value::Uint(limit.into()));
        let sql = format!("SELECT id, customer, total, placed FROM edge_orders {filter} ORDER BY id LIMIT %s");
        cur.execute(&sql, Some(&Params::Positional(params)))?;
        let rows = cur.fetchall()?;
        conn.close()?;
        Ok(rows
            .into_iter()
            .map(|row| Json::Object(row.into_iter().map(|(name, value)| (name, to_json(value))).collect::<Map<_, _>>()))
            .collect())
    }

    /// A cell as JSON: numbers that JSON holds exactly as numbers, DECIMAL as its exact text, dates
    /// and times as MySQL writes them.
    fn to_json(value: Value) -> Json {
        match value {
            Value::Null => Json::Null,
            Value::Int(i) => i.into(),
            Value::Uint(u) => u.into(),
            Value::Float(f) => serde_json::Number::from_f64(f.into()).map_or(Json::Null, Json::Number),
            Value::Double(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
            Value::Year(y) => y.into(),
            Value::Bit(b) => b.into(),
            Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Enum(s) => s.into(),
            Value::Set(members) => members.into(),
            Value::Bytes(b) | Value::Geometry(b) => b.into(),
            Value::Date(d) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day).into(),
            Value::Datetime(t) | Value::Timestamp(t) => {
                let mut s =
                    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour, t.minute, t.second);
                if t.microsecond != 0 {
                    s.push_str(&format!(".{:06}", t.microsecond));
                }
                s.into()
            }
            Value::Time(t) => {
                let sign = if t.negative { "-" } else { "" };
                let mut s = format!("{sign}{:02}:{:02}:{:02}", t.hours, t.minutes, t.seconds);
                if t.microseconds != 0 {
                    s.push_str(&format!(".{:06}", t.microseconds));
                }
                s.into()
            }
        }
    }

    fn kind_name(kind: ErrorKind) -> &'static str {
        match kind {
            ErrorKind::Interface => "interface",
            ErrorKind::Database => "database",
            ErrorKind::Data => "data",
            ErrorKind::Operational => "operational",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Internal => "internal",
            ErrorKind::Programming => "programming",
            ErrorKind::NotSupported => "not-supported",
        }
    }

    fn respond(out: ResponseOutparam, status: u16, body: &Json) {
        let bytes = body.to_string().into_bytes();
        let headers = Fields::from_list(&[
            ("content-type".to_string(), b"application/json".to_vec()),
            ("content-length".to_string(), bytes.len().to_string().into_bytes()),
        ])
        .expect("constant headers are valid");
        let response = OutgoingResponse::new(headers);
        response.set_status_code(status).expect("a valid status code");
        let outgoing = response.body().expect("the body is taken once");
        ResponseOutparam::set(out, Ok(response));
        // A client that went away makes these fail; there is no one left to tell.
        if let Ok(mut stream) = outgoing.write() {
            let _ = stream.write_all(&bytes).and_then(|()| std::io::Write::flush(&mut stream));
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}
