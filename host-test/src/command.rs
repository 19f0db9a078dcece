//! Runs a `wasi:cli/command` component as `wasmtime run -S inherit-network` would: its
//! `wasi:cli/run` export (WASI 0.2, or 0.3 through `run_concurrent`), with the arguments and
//! environment it is given and TCP allowed only where a [`Network`] policy says. The commands
//! run here are the README's Rust guests: examples/p3-guest (a 0.3 command that uses the crate as
//! a library) and examples/rust-app (a 0.2 command composed with the driver component), and
//! whatever `host-test run` is given.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Result, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{I32Exit, ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::driver::block_on;
use crate::driver_async::load_p3;

/// The most output kept from each of stdout and stderr; a guest writing more gets a write error.
const OUTPUT_LIMIT: usize = 1 << 20;

fn built(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/guest").join(file)
}

/// Where `scripts/build-component` puts the README's 0.3 guest (examples/p3-guest).
pub fn p3_guest_path() -> PathBuf {
    std::env::var_os("CYMYSQL_P3_GUEST").map_or_else(|| built("cymysql_p3_guest.wasm"), PathBuf::from)
}

/// Where `scripts/build-component` puts examples/rust-app, before it is composed with the driver.
pub fn rust_app_path() -> PathBuf {
    std::env::var_os("CYMYSQL_RUST_APP").map_or_else(|| built("cymysql-rust-app.wasm"), PathBuf::from)
}

/// Where `scripts/build-component` puts examples/edge-function, before it is composed with the driver.
pub fn edge_function_path() -> PathBuf {
    std::env::var_os("CYMYSQL_EDGE_FUNCTION").map_or_else(|| built("cymysql_edge_function.wasm"), PathBuf::from)
}

/// Where `scripts/build-python` puts examples/python-app-async, before it is composed with the 0.3
/// driver.
pub fn python_app_async_path() -> PathBuf {
    std::env::var_os("CYMYSQL_PYTHON_APP_ASYNC").map_or_else(|| built("cymysql-python-app-async.wasm"), PathBuf::from)
}

/// Where `scripts/build-python` puts examples/python-app, before it is composed with the driver.
pub fn python_app_path() -> PathBuf {
    std::env::var_os("CYMYSQL_PYTHON_APP").map_or_else(|| built("cymysql-python-app.wasm"), PathBuf::from)
}

/// Where a command may open TCP connections. Name lookup is always allowed; binding is allowed
/// only to the unspecified address, which a connect binds implicitly. Nothing may listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Connect to any address (`wasmtime run -S inherit-network`).
    pub any: bool,
    /// Connect to loopback addresses.
    pub loopback: bool,
    /// Connect to these addresses: an IP (any port) or an IP and a port.
    pub allow: Vec<Allowed>,
}

/// One entry of [`Network::allow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    Ip(IpAddr),
    Address(SocketAddr),
}

impl Default for Network {
    /// Loopback only: what the tests need, and nothing a command could reach beyond the machine.
    fn default() -> Self {
        Network { any: false, loopback: true, allow: Vec::new() }
    }
}

impl Network {
    /// Whether a connection to `addr` is allowed.
    pub fn permits(&self, addr: SocketAddr) -> bool {
        self.any
            || (self.loopback && addr.ip().is_loopback())
            || self.allow.iter().any(|a| match *a {
                Allowed::Ip(ip) => ip == addr.ip(),
                Allowed::Address(a) => a == addr,
            })
    }

    /// Lets a WASI context open TCP connections where this policy allows (name lookup is allowed).
    pub fn apply(&self, wasi: &mut WasiCtxBuilder) {
        wasi.allow_tcp(true);
        wasi.allow_ip_name_lookup(true);
        let network = Arc::new(self.clone());
        wasi.socket_addr_check(move |addr: SocketAddr, use_: SocketAddrUse| {
            let network = network.clone();
            Box::pin(async move {
                match use_ {
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified(),
                    SocketAddrUse::TcpConnect => network.permits(addr),
                    _ => false,
                }
            })
        });
    }
}

impl std::str::FromStr for Allowed {
    type Err = String;

    /// `IP` or `IP:PORT` (`[IPv6]:PORT`).
    fn from_str(s: &str) -> Result<Allowed, String> {
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(Allowed::Address(a));
        }
        s.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(Allowed::Ip)
            .map_err(|_| format!("'{s}' is not an IP address or IP:PORT"))
    }
}

/// Where a command's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// Kept in [`Output`] (up to a limit), for tests.
    Capture,
    /// The host process's own, for `host-test run`.
    Inherit,
}

/// What one run of a command left: its exit status and, when captured, everything it wrote.
#[derive(Debug)]
pub struct Output {
    /// 0 when `run` returned `ok`, 1 when it returned `err`, or the code it passed to `exit`.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

struct CommandState {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for CommandState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

/// Which `wasi:cli/run` the component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    P2,
    P3,
}

/// A compiled command component and a linker with WASI 0.2 and 0.3 (a 0.3 command built by Rust
/// imports both, since std still uses 0.2).
pub struct CommandHost {
    engine: Engine,
    component: Component,
    linker: Linker<CommandState>,
    run: Run,
}

impl CommandHost {
    /// Compiles the component at `path` (reusing a cached compilation) and finds its `wasi:cli/run`.
    pub fn load(path: &Path) -> Result<CommandHost> {
        let (engine, component, linker) = load_p3(path)?;
        let exports: Vec<String> =
            component.component_type().exports(&engine).map(|(name, _)| name.to_string()).collect();
        let run = if exports.iter().any(|n| n.starts_with("wasi:cli/run@0.3")) {
            Run::P3
        } else if exports.iter().any(|n| n.starts_with("wasi:cli/run@0.2")) {
            Run::P2
        } else {
            wasmtime::bail!(
                "{} is not a wasi:cli command: it exports no wasi:cli/run (it exports {})",
                path.display(),
                if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
            );
        };
        Ok(CommandHost { engine, component, linker, run })
    }

    /// The README's 0.3 guest, loaded on first use.
    pub fn p3_guest() -> &'static CommandHost {
        static HOST: OnceLock<CommandHost> = OnceLock::new();
        HOST.get_or_init(|| match CommandHost::load(&p3_guest_path()) {
            Ok(h) => h,
            Err(e) => panic!("cannot load the 0.3 guest: {e:#}"),
        })
    }

    /// Runs the command once in a fresh instance: `args` after the program name, `env` as its
    /// whole environment, TCP where `network` allows. A trap is the outer error.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)], network: &Network, stdio: Stdio) -> Result<Output> {
        let stdout = MemoryOutputPipe::new(OUTPUT_LIMIT);
        let stderr = MemoryOutputPipe::new(OUTPUT_LIMIT);
        let mut wasi = WasiCtx::builder();
        wasi.arg("main").args(args).envs(env);
        match stdio {
            Stdio::Capture => wasi.stdout(stdout.clone()).stderr(stderr.clone()),
            Stdio::Inherit => wasi.inherit_stdout().inherit_stderr(),
        };
        network.apply(&mut wasi);
        let mut store = Store::new(&self.engine, CommandState { ctx: wasi.build(), table: ResourceTable::new() });
        let ran = block_on(async {
            match self.run {
                Run::P3 => {
                    let command = wasmtime_wasi::p3::bindings::Command::instantiate_async(
                        &mut store,
                        &self.component,
                        &self.linker,
                    )
                    .await?;
                    store.run_concurrent(async move |a| command.wasi_cli_run().call_run(a).await).await?
                }
                Run::P2 => {
                    let command = wasmtime_wasi::p2::bindings::Command::instantiate_async(
                        &mut store,
                        &self.component,
                        &self.linker,
                    )
                    .await?;
                    command.wasi_cli_run().call_run(&mut store).await
                }
            }
        });
        let status = match ran {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(e),
            },
        };
        drop(store);
        let text = |pipe: &MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
        Ok(Output { status, stdout: text(&stdout), stderr: text(&stderr) })
    }
}
