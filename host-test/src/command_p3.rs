//! Runs a WASI 0.3 `wasi:cli/command` component as `wasmtime run` would: its `wasi:cli/run@0.3`
//! export through `run_concurrent`, with the environment it is given and its stdout and stderr
//! captured. The component run here is the README's Rust guest (examples/p3-guest), which uses
//! cymysql-wasi as a library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Result, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p3::bindings::Command;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{I32Exit, ResourceTable, WasiCtx, WasiCtxView, WasiView};

use crate::driver::block_on;
use crate::driver_async::load_p3;

/// The most output kept from each of stdout and stderr; a guest writing more gets a write error.
const OUTPUT_LIMIT: usize = 1 << 20;

/// Where `scripts/build-component` puts the README's 0.3 guest.
pub fn guest_path() -> PathBuf {
    if let Ok(p) = std::env::var("CYMYSQL_P3_GUEST") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/guest/cymysql_p3_guest.wasm")
}

/// What one run of a command left: its exit status and everything it wrote.
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

/// A compiled command component and a linker with WASI 0.3 and the WASI 0.2 that Rust's std imports.
pub struct CommandHost {
    engine: Engine,
    component: Component,
    linker: Linker<CommandState>,
}

impl CommandHost {
    /// Compiles the component at `path` (reusing a cached compilation).
    pub fn load(path: &Path) -> Result<CommandHost> {
        let (engine, component, linker) = load_p3(path)?;
        Ok(CommandHost { engine, component, linker })
    }

    /// The README's guest, loaded on first use.
    pub fn guest() -> &'static CommandHost {
        static HOST: OnceLock<CommandHost> = OnceLock::new();
        HOST.get_or_init(|| match CommandHost::load(&guest_path()) {
            Ok(h) => h,
            Err(e) => panic!("cannot load the 0.3 guest: {e:#}"),
        })
    }

    /// Runs the command once in a fresh instance with `env` as its whole environment, allowed to
    /// reach loopback TCP only. A trap is the outer error.
    pub fn run(&self, env: &[(&str, &str)]) -> Result<Output> {
        let stdout = MemoryOutputPipe::new(OUTPUT_LIMIT);
        let stderr = MemoryOutputPipe::new(OUTPUT_LIMIT);
        let mut wasi = WasiCtx::builder();
        wasi.envs(env).stdout(stdout.clone()).stderr(stderr.clone());
        wasi.allow_tcp(true);
        wasi.allow_ip_name_lookup(true);
        wasi.socket_addr_check(|addr: SocketAddr, use_: SocketAddrUse| {
            Box::pin(async move {
                match use_ {
                    // A connect first binds the unspecified address implicitly.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified(),
                    SocketAddrUse::TcpConnect => addr.ip().is_loopback(),
                    _ => false,
                }
            })
        });
        let mut store = Store::new(&self.engine, CommandState { ctx: wasi.build(), table: ResourceTable::new() });
        let ran = block_on(async {
            let command = Command::instantiate_async(&mut store, &self.component, &self.linker).await?;
            store.run_concurrent(async move |a| command.wasi_cli_run().call_run(a).await).await?
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
