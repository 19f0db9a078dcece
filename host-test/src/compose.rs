//! Composes components as `wac plug APP --plug DRIVER` does, through wac's own library: each
//! export of a plug that an import of the socket (the app) names, semver-compatibly, is wired to
//! it. CI composes examples/rust-app with the driver this way, with no wac CLI to install.

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};
use wasmtime::Result;

/// `socket` with its imports satisfied by `plugs`' exports, as one component's bytes.
pub fn plug(socket: &[u8], plugs: &[&[u8]]) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let app = Package::from_bytes("app", None, socket.to_vec(), graph.types_mut())
        .map_err(|e| wasmtime::format_err!("the app is not a component: {e:#}"))?;
    let app = graph.register_package(app).map_err(|e| wasmtime::format_err!("{e:#}"))?;
    let mut ids = Vec::new();
    for (i, bytes) in plugs.iter().enumerate() {
        let plug = Package::from_bytes(&format!("plug{i}"), None, bytes.to_vec(), graph.types_mut())
            .map_err(|e| wasmtime::format_err!("plug {} is not a component: {e:#}", i + 1))?;
        ids.push(graph.register_package(plug).map_err(|e| wasmtime::format_err!("{e:#}"))?);
    }
    wac_graph::plug(&mut graph, ids, app).map_err(|e| wasmtime::format_err!("{e}"))?;
    graph.encode(EncodeOptions::default()).map_err(|e| wasmtime::format_err!("{e:#}"))
}
