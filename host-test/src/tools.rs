//! `host-test compose` and `host-test run`: compose an app with the driver and run the result,
//! with no wac or wasmtime CLI installed.

use std::path::PathBuf;
use std::process::ExitCode;

use host_test::command::{CommandHost, Network, Stdio};
use host_test::compose::plug;
use host_test::render;

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

/// `run [options] COMMAND [ARG ...]`: the command's own exit status, or 1 with the reason when
/// it could not be loaded or trapped.
pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut network = Network::default();
    let mut env = Vec::new();
    let mut it = args.iter();
    let command = loop {
        let a = it.next().ok_or("run needs a command component")?;
        match a.as_str() {
            "--allow" => network.allow.push(it.next().ok_or("--allow needs an address")?.parse()?),
            "--allow-any" => network.any = true,
            "--env" => {
                let kv = it.next().ok_or("--env needs NAME=VALUE")?;
                let (k, v) = kv.split_once('=').ok_or("--env needs NAME=VALUE")?;
                env.push((k.to_string(), v.to_string()));
            }
            "--" => break it.next().ok_or("run needs a command component")?,
            other if other.starts_with('-') => return Err(format!("unknown option '{}'", render::terminal(other))),
            _ => break a,
        }
    };
    let rest: Vec<&str> = it.map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ran = CommandHost::load(&PathBuf::from(command)).and_then(|h| h.run(&rest, &env, &network, Stdio::Inherit));
    Ok(match ran {
        Ok(out) => ExitCode::from(u8::try_from(out.status).unwrap_or(1)),
        Err(e) => {
            eprintln!("ERROR: {}", render::terminal(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    })
}
