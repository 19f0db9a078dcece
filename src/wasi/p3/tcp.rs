//! A TCP stream over `wasi:sockets@0.3`, as `futures::io::AsyncRead + AsyncWrite`.
//!
//! WASI 0.3 gives a socket one `receive()` byte stream and takes one `send(stream)` for its whole
//! life, so both are set up at connect and kept. A read or write in progress is a component-model
//! stream operation held here between polls; only the task that holds the connection polls it.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use wasip3::sockets::ip_name_lookup::{resolve_addresses, ErrorCode as LookupError};
use wasip3::sockets::types::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress, TcpSocket,
};
use wasip3::wit_bindgen::rt::async_support::{FutureReader, StreamReader, StreamResult, StreamWriter};

use crate::error::Error;

/// The smallest read asked of the host; reads grow while they come back full.
const MIN_READ: usize = 8 * 1024;
/// The largest read asked of the host: a bound on what one read holds in guest memory.
const MAX_READ: usize = 64 * 1024;

type ReadOp = Pin<Box<dyn Future<Output = (StreamReader<u8>, StreamResult, Vec<u8>)>>>;
type WriteOp = Pin<Box<dyn Future<Output = (StreamWriter<u8>, Vec<u8>)>>>;

enum Receive {
    Idle(StreamReader<u8>),
    Reading(ReadOp),
    /// The peer closed its side, or the stream failed.
    Ended,
}

enum Send {
    Idle(StreamWriter<u8>),
    /// Bytes handed over by `poll_write` on their way to the host.
    Writing(WriteOp),
    /// The host stopped reading (the connection is gone), or we closed our side.
    Ended,
}

/// A connected TCP socket.
pub struct P3Tcp {
    receive: Receive,
    /// Bytes received and not yet handed to the caller, from `pos`.
    inbox: Vec<u8>,
    pos: usize,
    read_size: usize,
    send: Send,
    /// Resolves when the host has written everything (or failed); kept so the send is not abandoned.
    _sent: FutureReader<Result<(), ErrorCode>>,
    /// Resolves when the peer's side ends (or fails).
    _received: FutureReader<Result<(), ErrorCode>>,
    _socket: TcpSocket,
}

/// Resolves `host` (IP literals are parsed here, so hosts without name lookup still work).
async fn resolve(host: &str) -> Result<Vec<IpAddress>, Error> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![to_wasi_ip(ip)]);
    }
    match resolve_addresses(host.to_string()).await {
        Ok(list) if !list.is_empty() => Ok(list),
        Ok(_) => Err(Error::UnknownHost(host.to_string())),
        Err(
            LookupError::NameUnresolvable
            | LookupError::TemporaryResolverFailure
            | LookupError::PermanentResolverFailure,
        ) => Err(Error::UnknownHost(host.to_string())),
        Err(other) => {
            let reason = match other {
                LookupError::AccessDenied => "access denied".into(),
                LookupError::InvalidArgument => "invalid argument".into(),
                LookupError::Other(Some(text)) => text,
                _ => "failed".into(),
            };
            Err(Error::Connect { host: host.to_string(), port: 0, reason: format!("name lookup: {reason}") })
        }
    }
}

/// A socket error in words, as `strerror` would give it ("connection refused"), never the
/// bindings' Debug form; `other` carries the host's own text when it gave one.
fn describe(e: &ErrorCode) -> String {
    match e {
        ErrorCode::AccessDenied => "access denied".into(),
        ErrorCode::NotSupported => "not supported".into(),
        ErrorCode::InvalidArgument => "invalid argument".into(),
        ErrorCode::OutOfMemory => "out of memory".into(),
        ErrorCode::Timeout => "timeout".into(),
        ErrorCode::InvalidState => "invalid state".into(),
        ErrorCode::AddressNotBindable => "address not bindable".into(),
        ErrorCode::AddressInUse => "address in use".into(),
        ErrorCode::RemoteUnreachable => "remote unreachable".into(),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionBroken => "connection broken".into(),
        ErrorCode::ConnectionReset => "connection reset".into(),
        ErrorCode::ConnectionAborted => "connection aborted".into(),
        ErrorCode::DatagramTooLarge => "datagram too large".into(),
        ErrorCode::Other(Some(text)) => text.clone(),
        ErrorCode::Other(None) => "socket error".into(),
    }
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
pub async fn connect(host: &str, port: u16) -> Result<P3Tcp, Error> {
    let addresses = resolve(host).await?;
    crate::wasi::connect_first(host, port, addresses, |ip| connect_one(ip, port), describe).await
}

async fn connect_one(ip: IpAddress, port: u16) -> Result<P3Tcp, ErrorCode> {
    let (family, address) = match ip {
        IpAddress::Ipv4(address) => (IpAddressFamily::Ipv4, IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address })),
        IpAddress::Ipv6(address) => (
            IpAddressFamily::Ipv6,
            IpSocketAddress::Ipv6(Ipv6SocketAddress { port, flow_info: 0, address, scope_id: 0 }),
        ),
    };
    let socket = TcpSocket::create(family)?;
    socket.connect(address).await?;
    let (incoming, received) = socket.receive();
    let (outgoing, to_host) = wasip3::wit_stream::new::<u8>();
    let sent = socket.send(to_host);
    Ok(P3Tcp {
        receive: Receive::Idle(incoming),
        inbox: Vec::new(),
        pos: 0,
        read_size: MIN_READ,
        send: Send::Idle(outgoing),
        _sent: sent,
        _received: received,
        _socket: socket,
    })
}

impl AsyncRead for P3Tcp {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if this.pos < this.inbox.len() {
                let n = (this.inbox.len() - this.pos).min(buf.len());
                buf[..n].copy_from_slice(&this.inbox[this.pos..this.pos + n]);
                this.pos += n;
                return Poll::Ready(Ok(n));
            }
            match std::mem::replace(&mut this.receive, Receive::Ended) {
                Receive::Ended => return Poll::Ready(Ok(0)),
                Receive::Idle(mut reader) => {
                    // The inbox's allocation is reused for the next read.
                    let mut space = std::mem::take(&mut this.inbox);
                    space.clear();
                    space.reserve_exact(this.read_size);
                    this.pos = 0;
                    this.receive = Receive::Reading(Box::pin(async move {
                        let (result, data) = reader.read(space).await;
                        (reader, result, data)
                    }));
                }
                Receive::Reading(mut op) => match op.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.receive = Receive::Reading(op);
                        return Poll::Pending;
                    }
                    Poll::Ready((reader, result, data)) => {
                        let full = data.len() >= this.read_size;
                        this.read_size = if full {
                            (this.read_size * 2).min(MAX_READ)
                        } else {
                            data.len().next_power_of_two().clamp(MIN_READ, MAX_READ)
                        };
                        this.inbox = data;
                        this.pos = 0;
                        this.receive = match result {
                            StreamResult::Dropped if this.inbox.is_empty() => Receive::Ended,
                            _ => Receive::Idle(reader),
                        };
                    }
                },
            }
        }
    }
}

fn broken_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "connection closed")
}

impl P3Tcp {
    /// Drives the write in progress, if any, to its end.
    fn poll_sent(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match std::mem::replace(&mut self.send, Send::Ended) {
            Send::Ended => Poll::Ready(Err(broken_pipe())),
            Send::Idle(writer) => {
                self.send = Send::Idle(writer);
                Poll::Ready(Ok(()))
            }
            Send::Writing(mut op) => match op.as_mut().poll(cx) {
                Poll::Pending => {
                    self.send = Send::Writing(op);
                    Poll::Pending
                }
                Poll::Ready((writer, unsent)) => {
                    if unsent.is_empty() {
                        self.send = Send::Idle(writer);
                        Poll::Ready(Ok(()))
                    } else {
                        Poll::Ready(Err(broken_pipe()))
                    }
                }
            },
        }
    }
}

impl AsyncWrite for P3Tcp {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.poll_sent(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other.map(|r| r.map(|()| 0)),
        }
        let Send::Idle(mut writer) = std::mem::replace(&mut this.send, Send::Ended) else {
            return Poll::Ready(Err(broken_pipe()));
        };
        // The bytes are owned by the write from here; poll_flush waits for the host to take them.
        let data = buf.to_vec();
        this.send = Send::Writing(Box::pin(async move {
            let unsent = writer.write_all(data).await;
            (writer, unsent)
        }));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_sent(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = this.poll_sent(cx);
        if r.is_ready() {
            // Dropping the writer ends the send stream: the host shuts down our side.
            this.send = Send::Ended;
        }
        r.map(|_| Ok(()))
    }
}
