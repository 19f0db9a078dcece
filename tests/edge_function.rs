//! examples/edge-function, a `wasi:http` handler that imports `cymysql:aio/connection`, composed
//! with the 0.2 driver and served over HTTP by host-test (wasmtime-wasi-http, what `wasmtime serve`
//! runs): each request gets a fresh instance that connects to the real MariaDB and answers JSON.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio as ProcessStdio};
use std::sync::OnceLock;

use http_body_util::BodyExt;
use serde_json::{json, Value as Json};

use crate::common;
use host_test::command::{edge_function_path, Network, Stdio};
use host_test::serve::{HttpServer, ServeOptions};
use host_test::server::shared as server;

/// The composed edge function, written once beside the app.
fn composed() -> &'static std::path::Path {
    static PATH: OnceLock<std::path::PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        common::composed_with_driver(&edge_function_path(), "edge_function_composed.wasm", "scripts/build-component")
    })
}

/// The order book the function reads, in a database of its own.
fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        server()
            .admin_sql(
                "CREATE DATABASE IF NOT EXISTS edge_fn; \
                 CREATE OR REPLACE TABLE edge_fn.edge_orders (id INT PRIMARY KEY, customer VARCHAR(40), \
                   total DECIMAL(10,2), placed DATETIME(6)); \
                 INSERT INTO edge_fn.edge_orders VALUES \
                   (1, 'Zoë', 12.50, '2024-02-29 23:59:59.123456'), \
                   (2, 'O''Brien', 7.25, '2024-03-01 00:00:00'), \
                   (3, 'Zoë', 30.00, '2024-03-02 08:30:00')",
            )
            .expect("create the order book");
        server().url("edge_fn")
    })
}

fn serve(url: &str) -> HttpServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let options = ServeOptions {
        env: vec![("DATABASE_URL".into(), url.into())],
        network: Network::default(),
        stdio: Stdio::Capture,
    };
    HttpServer::start(composed(), listener, options).expect("serve the composed edge function")
}

/// One server for the tests that read the order book.
fn served() -> &'static HttpServer {
    static SERVER: OnceLock<HttpServer> = OnceLock::new();
    SERVER.get_or_init(|| serve(database_url()))
}

/// The status, content type and body of `method path`, asked over a connection of its own.
fn ask(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect to the server");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(connection);
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string())
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("a response");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map_or(String::new(), |v| v.to_str().unwrap_or("not text").to_string());
        let body = response.into_body().collect().await.expect("the body").to_bytes();
        (status, content_type, String::from_utf8(body.to_vec()).expect("a UTF-8 body"))
    })
}

fn get_json(path: &str) -> (u16, Json) {
    let (status, content_type, body) = ask(served().addr(), "GET", path);
    assert_eq!(content_type, "application/json", "{path}: {status} {body}");
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}")))
}

#[test]
fn orders_come_from_the_database_as_json() {
    let (status, body) = get_json("/orders?customer=Zo%C3%AB");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"orders": [
            {"id": 1, "customer": "Zoë", "total": "12.50", "placed": "2024-02-29 23:59:59.123456"},
            {"id": 3, "customer": "Zoë", "total": "30.00", "placed": "2024-03-02 08:30:00"},
        ]})
    );
    assert_eq!(get_json("/orders?customer=O%27Brien").1["orders"][0]["id"], 2);
    // The customer is a value, never SQL.
    assert_eq!(get_json("/orders?customer=x%27%20OR%20%271%27%3D%271").1, json!({"orders": []}));
    assert_eq!(get_json("/orders?limit=2").1["orders"].as_array().map(Vec::len), Some(2));
}

#[test]
fn each_request_reads_what_is_on_the_server_now() {
    let (_, before) = get_json("/orders?customer=Ana");
    assert_eq!(before, json!({"orders": []}));
    server()
        .admin_sql("INSERT INTO edge_fn.edge_orders VALUES (40, 'Ana', 1.05, '2024-04-01 12:00:00')")
        .expect("insert");
    let (status, after) = get_json("/orders?customer=Ana");
    server().admin_sql("DELETE FROM edge_fn.edge_orders WHERE id = 40").expect("delete");
    assert_eq!(status, 200);
    assert_eq!(
        after,
        json!({"orders": [{"id": 40, "customer": "Ana", "total": "1.05", "placed": "2024-04-01 12:00:00"}]})
    );
}

#[test]
fn bad_requests_get_4xx_and_json() {
    for (path, status, kind) in [
        ("/orders?limit=0", 400, "bad-request"),
        ("/orders?limit=101", 400, "bad-request"),
        ("/orders?limit=ten", 400, "bad-request"),
        ("/orders?colour=red", 400, "bad-request"),
        ("/", 404, "not-found"),
        ("/orders/1", 404, "not-found"),
    ] {
        let (got, body) = get_json(path);
        assert_eq!((got, body["error"]["kind"].as_str()), (status, Some(kind)), "{path}: {body}");
    }
    let (status, _, body) = ask(served().addr(), "POST", "/orders");
    assert_eq!(status, 405, "{body}");
}

#[test]
fn requests_in_parallel_each_get_their_own_instance_and_connection() {
    let answers: Vec<(u16, Json)> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..6).map(|_| scope.spawn(|| get_json("/orders?customer=O%27Brien"))).collect();
        asks.into_iter().map(|t| t.join().expect("no panic")).collect()
    });
    for (status, body) in answers {
        assert_eq!((status, body["orders"][0]["customer"].as_str()), (200, Some("O'Brien")), "{body}");
    }
}

#[test]
fn a_wrong_password_is_a_503_with_the_typed_error_and_no_password() {
    let url = database_url();
    let bad = serve(&common::with_password(url, "Wr0ngPassw0rd"));
    let (status, content_type, body) = ask(bad.addr(), "GET", "/orders");
    assert_eq!((status, content_type.as_str()), (503, "application/json"), "{body}");
    let body: Json = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body, json!({"error": {"kind": "operational", "code": 1045, "sqlstate": "28000", "retryable": false}}));
    // The server's words go to the function's log, never to the client; the password to neither.
    let log = bad.log();
    assert!(log.contains("Access denied for user"), "{log}");
    assert!(!log.contains("Wr0ngPassw0rd") && !body.to_string().contains("Wr0ngPassw0rd"), "{log}");
}

#[test]
fn host_test_serve_serves_it_from_the_command_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["serve", "--listen", "127.0.0.1:0", "--env"])
        .arg(format!("DATABASE_URL={}", database_url()))
        .arg(composed())
        .stdout(ProcessStdio::piped())
        .spawn()
        .expect("start host-test serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("its first line");
    let addr = first.trim().strip_prefix("serving http://").and_then(|a| a.strip_suffix('/')).map(str::parse);
    let answer = addr.map(|a| ask(a.expect("an address"), "GET", "/orders?limit=1"));
    let _ = child.kill();
    let _ = child.wait();
    let (status, _, body) = answer.unwrap_or_else(|| panic!("not a serving line: {first:?}"));
    assert_eq!(status, 200, "{body}");
    // The bytes as sent: a row's keys in column order.
    assert_eq!(body, r#"{"orders":[{"id":1,"customer":"Zoë","total":"12.50","placed":"2024-02-29 23:59:59.123456"}]}"#);
}
