//! `host-test compose`, `host-test run` and `host-test serve`: compose an app with the driver and
//! run or serve the result, with no wac or wasmtime CLI installed.

use std::path::PathBuf;
use std::process::ExitCode;

use host_test::command::{CommandHost, Network, Stdio};
use host_test::compose::plug;
use host_test::render;
use host_test::serve::{HttpServer, ServeOptions};

/// `compose APP --plug DRIVER [--plug ...] -o OUT`: Err is a usage error; a failure to compose
/// is reported here and exits 1.
pub fn compose(args: &[String]) -> Result<ExitCode, String> {
    let (mut app, mut plugs, mut out) = (None, Vec::new(), None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--plug" => plugs.push(it.next().ok_or("--plug needs a component")?.clone()),
            "-o" | "--output" => out = Some(it.next().ok_or("-o needs a file name")?.clone()),
            other if other.starts_with('-') => return Err(format!("unknown option '{}'", render::terminal(other))),
            _ if app.is_some() => return Err("compose takes one app".into()),
            _ => app = Some(a.clone()),
        }
    }
    let app = app.ok_or("compose needs an app component")?;
    let out = out.ok_or("compose needs -o OUT.wasm")?;
    if plugs.is_empty() {
        return Err("compose needs at least one --plug".into());
    }
    let read = |p: &str| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
    let composed = (|| {
        let app = read(&app)?;
        let plugs = plugs.iter().map(|p| read(p)).collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&[u8]> = plugs.iter().map(Vec::as_slice).collect();
        let bytes = plug(&app, &refs).map_err(|e| format!("{e:#}"))?;
        std::fs::write(&out, &bytes).map_err(|e| format!("{out}: {e}"))?;
        Ok::<usize, String>(bytes.len())
    })();
    Ok(match composed {
        Ok(len) => {
            eprintln!("composed {out} ({len} bytes)");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("ERROR: {}", render::terminal(&why));
            ExitCode::FAILURE
        }
    })
}

/// The options `run` and `serve` share, up to the component: where it may connect and its
/// environment. `listen` takes `--listen ADDR` as well (serve).
struct Sandbox<'a> {
    network: Network,
    env: Vec<(String, String)>,
    listen: Option<String>,
    component: &'a str,
    rest: Vec<&'a str>,
}

fn sandbox_options(args: &[String], takes_listen: bool) -> Result<Sandbox<'_>, String> {
    let (mut network, mut env, mut listen) = (Network::default(), Vec::new(), None);
    let mut it = args.iter();
    let component = loop {
        let a = it.next().ok_or("no component given")?;
        match a.as_str() {
            "--allow" => network.allow.push(it.next().ok_or("--allow needs an address")?.parse()?),
            "--allow-any" => network.any = true,
            "--env" => {
                let kv = it.next().ok_or("--env needs NAME=VALUE")?;
                let (k, v) = kv.split_once('=').ok_or("--env needs NAME=VALUE")?;
                env.push((k.to_string(), v.to_string()));
            }
            "--listen" if takes_listen => listen = Some(it.next().ok_or("--listen needs IP:PORT")?.clone()),
            "--" => break it.next().ok_or("no component given")?,
            other if other.starts_with('-') => return Err(format!("unknown option '{}'", render::terminal(other))),
            _ => break a,
        }
    };
    Ok(Sandbox { network, env, listen, component, rest: it.map(String::as_str).collect() })
}

/// `run [options] COMMAND [ARG ...]`: the command's own exit status, or 1 with the reason when
/// it could not be loaded or trapped.
pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let o = sandbox_options(args, false)?;
    let env: Vec<(&str, &str)> = o.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ran =
        CommandHost::load(&PathBuf::from(o.component)).and_then(|h| h.run(&o.rest, &env, &o.network, Stdio::Inherit));
    Ok(match ran {
        Ok(out) => ExitCode::from(u8::try_from(out.status).unwrap_or(1)),
        Err(e) => {
            eprintln!("ERROR: {}", render::terminal(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    })
}

/// `serve [--listen IP:PORT] [options] COMPONENT`: serves until killed; 1 with the reason when
/// the component could not be loaded or the address not bound.
pub fn serve(args: &[String]) -> Result<ExitCode, String> {
    let o = sandbox_options(args, true)?;
    if !o.rest.is_empty() {
        return Err("serve takes one component and no arguments".into());
    }
    let listen = o.listen.as_deref().unwrap_or("127.0.0.1:8080");
    let options = ServeOptions { env: o.env, network: o.network, stdio: Stdio::Inherit };
    let started = std::net::TcpListener::bind(listen)
        .map_err(|e| wasmtime::format_err!("cannot listen on {listen}: {e}"))
        .and_then(|l| HttpServer::start(&PathBuf::from(o.component), l, options));
    match started {
        Ok(server) => {
            // The first line says where, so a script (or a test) can start it on port 0.
            println!("serving http://{}/", server.addr());
            server.wait();
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("ERROR: {}", render::terminal(&format!("{e:#}")));
            Ok(ExitCode::FAILURE)
        }
    }
}
