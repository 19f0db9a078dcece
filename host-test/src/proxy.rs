//! A fault-injecting TCP proxy for tests: sits between the component and a real server, passes
//! bytes through, and on cue drops the connection, stalls it, or flips a byte.
//!
//! A fault is armed on the proxy and fires once, on the first connection that meets its trigger;
//! connections opened afterwards pass through untouched, so a pool can be seen to recover.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// What the proxy does when a fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Closes both sides at once: the server sees the client go, the client sees end of stream.
    Drop,
    /// Stops passing the server's bytes on while keeping both sockets open (a hung server).
    StallServer,
    /// Stops reading the client's bytes while keeping both sockets open (a server that takes
    /// nothing more, so the client's writes block once the socket buffers are full).
    StallClient,
    /// Inverts every bit of one byte of the server's stream, then goes on passing bytes.
    FlipByte,
}

/// When a fault fires and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Fires on the connection whose client sends bytes containing this (a statement's text);
    /// `None` fires on the next connection accepted.
    pub after_client_sends: Option<Vec<u8>>,
    /// Whether the client's bytes that matched still reach the server (a COMMIT the server
    /// receives but whose OK never comes back).
    pub forward_trigger: bool,
    /// Server bytes passed on after the trigger before the action: 0 acts before any reply,
    /// and for `FlipByte` this is the offset of the byte flipped.
    pub then_server_bytes: usize,
    pub action: Action,
}

impl Fault {
    /// `action` once the client has sent `needle` (forwarded) and the server has sent `bytes` more.
    pub fn after(needle: &str, bytes: usize, action: Action) -> Fault {
        Fault {
            after_client_sends: Some(needle.as_bytes().to_vec()),
            forward_trigger: true,
            then_server_bytes: bytes,
            action,
        }
    }

    /// `action` on the next connection, after the server has sent `bytes` of it.
    pub fn on_connect(bytes: usize, action: Action) -> Fault {
        Fault { after_client_sends: None, forward_trigger: true, then_server_bytes: bytes, action }
    }
}

#[derive(Debug, Default)]
struct State {
    armed: Option<Fault>,
    fired: usize,
    /// Every byte clients sent through the proxy, for assertions such as "COMMIT went out once".
    client_bytes: Vec<u8>,
}

/// What one connection is doing about its fault.
#[derive(Debug, Clone)]
enum Plan {
    PassThrough,
    /// The fault fired (or will, after `left` more server bytes).
    Firing {
        left: usize,
        action: Action,
    },
    /// The action was applied (a flipped byte: pass the rest through).
    Done,
}

struct Link {
    client: TcpStream,
    server: TcpStream,
    plan: Mutex<Plan>,
    closed: AtomicBool,
}

impl Link {
    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

/// A proxy listening on a loopback port of its own, forwarding to `upstream`.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<Arc<Link>>>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` with no fault armed.
    pub fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let proxy = FaultProxy {
            port,
            state: Arc::new(Mutex::new(State::default())),
            stop: Arc::new(AtomicBool::new(false)),
            links: Arc::new(Mutex::new(Vec::new())),
        };
        let (state, stop, links) = (proxy.state.clone(), proxy.stop.clone(), proxy.links.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let plan = {
                    let mut s = lock(&state);
                    match &s.armed {
                        Some(f) if f.after_client_sends.is_none() => {
                            let f = s.armed.take().expect("checked above");
                            s.fired += 1;
                            Plan::Firing { left: f.then_server_bytes, action: f.action }
                        }
                        _ => Plan::PassThrough,
                    }
                };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else { continue };
                let link = Arc::new(Link { client, server, plan: Mutex::new(plan), closed: AtomicBool::new(false) });
                lock(&links).push(link.clone());
                let up = (link.clone(), state.clone());
                thread::spawn(move || client_to_server(c2, &up.0, &up.1));
                thread::spawn(move || server_to_client(s2, &link));
            }
        });
        Ok(proxy)
    }

    /// The port to connect to instead of the server's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Arms `fault`; it fires once.
    pub fn arm(&self, fault: Fault) {
        lock(&self.state).armed = Some(fault);
    }

    /// How many faults have fired so far.
    pub fn fired(&self) -> usize {
        lock(&self.state).fired
    }

    /// How many times clients sent `needle` through the proxy.
    pub fn client_sent_count(&self, needle: &str) -> usize {
        let s = lock(&self.state);
        let needle = needle.as_bytes();
        if needle.is_empty() {
            return 0;
        }
        s.client_bytes.windows(needle.len()).filter(|w| *w == needle).count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for link in lock(&self.links).drain(..) {
            link.close();
        }
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), Duration::from_secs(1));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn client_to_server(mut from: TcpStream, link: &Link, state: &Mutex<State>) {
    let mut to = &link.server;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if matches!(*link.plan(), Plan::Firing { action: Action::StallClient, left: 0 }) {
            // Take nothing more from the client until the test ends or the client gives up.
            while !link.closed.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        let mut forward = true;
        {
            let mut s = lock(state);
            s.client_bytes.extend_from_slice(chunk);
            let hit =
                matches!(&s.armed, Some(Fault { after_client_sends: Some(needle), .. }) if contains(chunk, needle));
            if hit {
                let f = s.armed.take().expect("checked above");
                s.fired += 1;
                forward = f.forward_trigger && f.action != Action::StallClient;
                // Set before the chunk goes out, so no reply to it can slip past the fault.
                *link.plan() = Plan::Firing { left: f.then_server_bytes, action: f.action };
            }
        }
        if forward && to.write_all(chunk).is_err() {
            break;
        }
        if matches!(*link.plan(), Plan::Firing { action: Action::Drop, left: 0 }) {
            link.close();
            return;
        }
    }
    link.close();
}

fn server_to_client(mut from: TcpStream, link: &Link) {
    let mut to = &link.client;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        let plan = link.plan().clone();
        match plan {
            Plan::PassThrough | Plan::Done => {}
            Plan::Firing { left, action } => {
                if left >= chunk.len() {
                    *link.plan() = Plan::Firing { left: left - chunk.len(), action };
                } else {
                    match action {
                        Action::Drop => {
                            let _ = to.write_all(&chunk[..left]);
                            link.close();
                            return;
                        }
                        Action::StallServer => {
                            let _ = to.write_all(&chunk[..left]);
                            // Swallow the rest of what the server says until the client gives up.
                            while from.read(&mut buf).is_ok_and(|n| n > 0) {}
                            break;
                        }
                        Action::FlipByte => {
                            chunk[left] ^= 0xFF;
                            *link.plan() = Plan::Done;
                        }
                        Action::StallClient => {}
                    }
                }
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    link.close();
}
