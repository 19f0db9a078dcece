//! A TCP stream over `wasi:sockets`, as `futures::io::AsyncRead + AsyncWrite`.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use wasi::io::poll::Pollable;
use wasi::io::streams::{InputStream, OutputStream, StreamError};
use wasi::sockets::instance_network::instance_network;
use wasi::sockets::ip_name_lookup::resolve_addresses;
use wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};
use wasi::sockets::tcp::{ShutdownType, TcpSocket};
use wasi::sockets::tcp_create_socket::create_tcp_socket;

use super::reactor::{deregister, ready, register};
use crate::error::Error;

/// The smallest read asked of the host. wasmtime zero-fills a buffer of the size asked for on
/// every read, so asking for 64 KiB to receive a 1 KiB reply costs more than the reply itself;
/// a reply larger than the last one costs one more read, after which the size has doubled.
const MIN_READ: usize = 1024;

/// A connected TCP socket. Fields drop in order: pollables and streams are children of the socket.
pub struct WasiTcp {
    /// Bytes to ask for in the next read: grows while reads come back full (a large result
    /// streaming in), falls back to the size of what arrived when one does not.
    read_size: usize,
    /// The last read took everything the host had (it came back short or empty): the next one
    /// first asks the pollable, about half the cost of a read that finds nothing (a request's
    /// reply is never there the moment the request has gone). Going straight to `poll` instead
    /// measured worse: a reply in two segments then costs a `poll` where `ready` would do.
    drained: bool,
    /// What the last `check-write` allowed and no write has used yet: a write after a completed
    /// flush needs no second `check-write` call.
    write_budget: usize,
    input_ready: Rc<Pollable>,
    output_ready: Rc<Pollable>,
    input: InputStream,
    output: OutputStream,
    socket: TcpSocket,
}

impl Drop for WasiTcp {
    fn drop(&mut self) {
        deregister(&self.input_ready);
        deregister(&self.output_ready);
    }
}

/// Resolves `host` (IP literals are parsed here, so hosts without name lookup still work).
async fn resolve(host: &str) -> Result<Vec<IpAddress>, Error> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![to_wasi_ip(ip)]);
    }
    let network = instance_network();
    let stream = resolve_addresses(&network, host).map_err(|e| lookup_error(host, e))?;
    let pollable = Rc::new(stream.subscribe());
    let mut out = Vec::new();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(ip)) => out.push(ip),
            Ok(None) => break,
            Err(ErrorCode::WouldBlock) => ready(&pollable).await,
            Err(e) => {
                drop(pollable);
                return Err(lookup_error(host, e));
            }
        }
    }
    drop(pollable);
    if out.is_empty() {
        return Err(Error::UnknownHost(host.to_string()));
    }
    Ok(out)
}

fn lookup_error(host: &str, e: ErrorCode) -> Error {
    match e {
        ErrorCode::NameUnresolvable | ErrorCode::TemporaryResolverFailure | ErrorCode::PermanentResolverFailure => {
            Error::UnknownHost(host.to_string())
        }
        other => {
            Error::Connect { host: host.to_string(), port: 0, reason: format!("name lookup: {}", describe(&other)) }
        }
    }
}

/// A socket error in words, as `strerror` would give it ("connection refused"): the WIT name
/// without its dashes, never the bindings' Debug form.
fn describe(e: &ErrorCode) -> String {
    e.name().replace('-', " ")
}

fn to_wasi_ip(ip: IpAddr) -> IpAddress {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            IpAddress::Ipv4((o[0], o[1], o[2], o[3]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

/// Opens a TCP connection, trying each address of `host` in turn.
pub async fn connect(host: &str, port: u16) -> Result<WasiTcp, Error> {
    let addresses = resolve(host).await?;
    super::connect_first(host, port, addresses, |ip| connect_one(ip, port), describe).await
}

async fn connect_one(ip: IpAddress, port: u16) -> Result<WasiTcp, ErrorCode> {
    let network = instance_network();
    let (family, address) = match ip {
        IpAddress::Ipv4(address) => (IpAddressFamily::Ipv4, IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address })),
        IpAddress::Ipv6(address) => (
            IpAddressFamily::Ipv6,
            IpSocketAddress::Ipv6(Ipv6SocketAddress { port, flow_info: 0, address, scope_id: 0 }),
        ),
    };
    let socket = create_tcp_socket(family)?;
    socket.start_connect(&network, address)?;
    let pollable = Rc::new(socket.subscribe());
    let streams = loop {
        match socket.finish_connect() {
            Ok(streams) => break streams,
            Err(ErrorCode::WouldBlock) => ready(&pollable).await,
            Err(e) => return Err(e),
        }
    };
    drop(pollable);
    let (input, output) = streams;
    Ok(WasiTcp {
        read_size: MIN_READ,
        drained: true,
        write_budget: 0,
        input_ready: Rc::new(input.subscribe()),
        output_ready: Rc::new(output.subscribe()),
        input,
        output,
        socket,
    })
}

fn stream_error(e: StreamError) -> io::Error {
    match e {
        StreamError::Closed => io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"),
        StreamError::LastOperationFailed(err) => io::Error::other(err.to_debug_string()),
    }
}

impl AsyncRead for WasiTcp {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.drained && !this.input_ready.ready() {
            register(&this.input_ready, cx.waker());
            return Poll::Pending;
        }
        let asked = this.read_size.min(buf.len());
        match this.input.read(asked as u64) {
            Ok(bytes) if bytes.is_empty() => {
                this.drained = true;
                register(&this.input_ready, cx.waker());
                Poll::Pending
            }
            Ok(bytes) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                this.drained = n < asked;
                this.read_size = if n >= asked { asked.saturating_mul(2) } else { n.next_power_of_two().max(MIN_READ) };
                Poll::Ready(Ok(n))
            }
            Err(StreamError::Closed) => Poll::Ready(Ok(0)),
            Err(e) => Poll::Ready(Err(stream_error(e))),
        }
    }
}

impl AsyncWrite for WasiTcp {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.write_budget == 0 {
            match this.output.check_write() {
                Ok(0) => {
                    register(&this.output_ready, cx.waker());
                    return Poll::Pending;
                }
                Ok(budget) => this.write_budget = usize::try_from(budget).unwrap_or(usize::MAX),
                Err(e) => return Poll::Ready(Err(stream_error(e))),
            }
        }
        let n = buf.len().min(this.write_budget);
        // A permit is for the next write only, whatever its size.
        this.write_budget = 0;
        match this.output.write(&buf[..n]) {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(e) => Poll::Ready(Err(stream_error(e))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // `flush` starts a flush; until it completes, check-write allows nothing, so a non-zero
        // budget means it is done (and is the permit for the next write).
        this.write_budget = 0;
        if let Err(e) = this.output.flush() {
            return Poll::Ready(Err(stream_error(e)));
        }
        match this.output.check_write() {
            Ok(0) => {
                register(&this.output_ready, cx.waker());
                Poll::Pending
            }
            Ok(budget) => {
                this.write_budget = usize::try_from(budget).unwrap_or(usize::MAX);
                Poll::Ready(Ok(()))
            }
            Err(e) => Poll::Ready(Err(stream_error(e))),
        }
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let _ = self.socket.shutdown(ShutdownType::Both);
        Poll::Ready(Ok(()))
    }
}
