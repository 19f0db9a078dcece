//! Serves a `wasi:http/proxy` component over HTTP/1.1 as `wasmtime serve` does: each request gets
//! a fresh instance whose `wasi:http/incoming-handler` answers it. The component may also open TCP
//! connections where a [`Network`] policy allows, which the edge function needs to reach its
//! database (`wasmtime serve -S inherit-network`). examples/edge-function is served this way by
//! `host-test serve` and tests/edge_function.rs.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use wasmtime::component::ResourceTable;
use wasmtime::{Result, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::command::{Network, Stdio};
use crate::driver_async::load_p3;

/// How long one request may take before the client gets 504 and its instance is dropped: a guest
/// waiting on a stalled database must not hold a connection of the server forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most that is kept of what the instances write to stderr, for tests.
const LOG_LIMIT: usize = 1 << 20;

/// What each request's instance is given besides the request.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The whole environment of each instance.
    pub env: Vec<(String, String)>,
    /// Where each instance may open TCP connections.
    pub network: Network,
    /// Where the instances' stdout and stderr go; captured stderr is [`HttpServer::log`].
    pub stdio: Stdio,
}

struct ServeState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NoOutgoingHttp,
    table: ResourceTable,
}

impl WasiView for ServeState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for ServeState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// The instances answer requests and reach their database over wasi:sockets; outgoing HTTP is
/// refused, which also keeps wasmtime-wasi-http's TLS client out of the build.
struct NoOutgoingHttp;

impl WasiHttpHooks for NoOutgoingHttp {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>),
                    HttpError,
                >,
            > + Send,
    > {
        Box::new(async { Err(HttpError::HttpRequestDenied) })
    }
}

struct Handler {
    pre: ProxyPre<ServeState>,
    options: ServeOptions,
    log: MemoryOutputPipe,
}

/// A running server; dropping it stops it.
pub struct HttpServer {
    addr: SocketAddr,
    log: MemoryOutputPipe,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Compiles the component at `path` (reusing a cached compilation), checks that it is a
    /// `wasi:http/proxy`, and serves it on `listener` from a thread of its own.
    pub fn start(path: &Path, listener: std::net::TcpListener, options: ServeOptions) -> Result<HttpServer> {
        let (_, component, mut linker) = load_p3::<ServeState>(path)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let log = MemoryOutputPipe::new(LOG_LIMIT);
        let handler = Arc::new(Handler { pre, options, log: log.clone() });
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return eprintln!("host-test serve: {e}"),
                };
                let accepting = tokio::spawn(accept(listener, handler));
                let _ = stopped.await;
                accepting.abort();
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        });
        Ok(HttpServer { addr, log, stop: Some(stop), thread: Some(thread) })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the instances wrote to stderr so far, when [`Stdio::Capture`] was asked for.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.contents()).into_owned()
    }

    /// Serves until the process ends (`host-test serve`).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept(listener: tokio::net::TcpListener, handler: Arc<Handler>) {
    loop {
        let (client, _) = match listener.accept().await {
            Ok(c) => c,
            // A client that reset before it was accepted, or no descriptors left for a moment.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { handler.handle(req).await }
            });
            // A client that hangs up mid-request ends only its own connection.
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(client), service).await;
        });
    }
}

impl Handler {
    async fn handle(&self, req: hyper::Request<hyper::body::Incoming>) -> Result<hyper::Response<HyperOutgoingBody>> {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&self.options.env);
        match self.options.stdio {
            Stdio::Capture => wasi.stderr(self.log.clone()),
            Stdio::Inherit => wasi.inherit_stdout().inherit_stderr(),
        };
        self.options.network.apply(&mut wasi);
        let mut store = Store::new(
            self.pre.engine(),
            ServeState {
                wasi: wasi.build(),
                http: WasiHttpCtx::new(),
                hooks: NoOutgoingHttp,
                table: ResourceTable::new(),
            },
        );
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store.data_mut().http().new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        // The instance runs in a task of its own so it can go on writing the body after it has
        // sent the head of the response.
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(store, req, out).await
        });
        match tokio::time::timeout(REQUEST_TIMEOUT, receiver).await {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(code))) => Ok(error_response(500, &format!("the handler failed: {code:?}"))),
            Ok(Err(_)) => {
                // The instance ended without answering: a trap, or a handler that returned early.
                let why = match task.await {
                    Ok(Ok(())) => "the handler returned without setting a response".to_string(),
                    Ok(Err(e)) => format!("the handler trapped: {e:#}"),
                    Err(e) => format!("the handler's task failed: {e}"),
                };
                Ok(error_response(500, &why))
            }
            Err(_) => {
                task.abort();
                Ok(error_response(504, "the handler did not answer in time"))
            }
        }
    }
}

/// A plain-text response from the host itself, for requests the component could not answer.
fn error_response(status: u16, why: &str) -> hyper::Response<HyperOutgoingBody> {
    use http_body_util::BodyExt;
    let body = http_body_util::Full::new(bytes::Bytes::from(format!("{why}\n")))
        .map_err(|never: std::convert::Infallible| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}
