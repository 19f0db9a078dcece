//! TLS over any transport: rustls with the ring crypto provider, driven over our async stream.
//!
//! rustls' `ClientConnection` is synchronous (bytes in, bytes out); [`TlsStream`] feeds it from the
//! inner transport and drains its records back out, so TLS works on any WASI host without host help.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::options::SslOptions;
use super::transport::Transport;
use crate::error::Error;

/// A TLS session over an inner transport: plaintext in and out, records on the wire.
pub struct TlsStream {
    inner: Box<dyn Transport>,
    session: ClientConnection,
}

impl TlsStream {
    /// Runs the TLS handshake over `inner` (right after the SSLRequest packet) for server `host`.
    pub async fn connect(inner: Box<dyn Transport>, ssl: &SslOptions, host: &str) -> Result<TlsStream, Error> {
        let config = client_config(ssl)?;
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| Error::Programming(format!("ssl: {host:?} is not a valid server name: {e}")))?;
        let session = ClientConnection::new(config, name).map_err(|e| Error::Tls(e.to_string()))?;
        let mut stream = TlsStream { inner, session };
        futures::future::poll_fn(|cx| stream.poll_handshake(cx)).await?;
        Ok(stream)
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            match self.poll_write_records(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::ConnectionLost(e.to_string()))),
                Poll::Pending => return Poll::Pending,
            }
            if !self.session.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            match self.poll_read_records(cx) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::ConnectionLost("server closed the connection during TLS".into())))
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(tls_error(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Writes every record rustls has queued, then flushes the inner stream.
    fn poll_write_records(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.session.wants_write() {
            let mut out = SyncIo { inner: &mut self.inner, cx };
            match self.session.write_tls(&mut out) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// Reads what the server sent and lets rustls process it; 0 means the server closed the stream.
    fn poll_read_records(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut input = SyncIo { inner: &mut self.inner, cx };
        let n = match self.session.read_tls(&mut input) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if let Err(e) = self.session.process_new_packets() {
            // Tell the server why (the alert rustls queued); the error is what matters.
            let mut out = SyncIo { inner: &mut self.inner, cx };
            let _ = self.session.write_tls(&mut out);
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match this.session.reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed the TCP stream without close_notify: report it as EOF to our caller.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Poll::Ready(Ok(0)),
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Key updates and alerts may need an answer before more data comes.
            if let Poll::Ready(Err(e)) = this.poll_write_records(cx) {
                return Poll::Ready(Err(e));
            }
            match this.poll_read_records(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Drain earlier records first so rustls' buffer stays bounded.
        match this.poll_write_records(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other.map(|r| r.map(|()| 0)),
        }
        let n = this.session.writer().write(buf)?;
        // Start sending at once; what the stream cannot take now goes out on the next write or flush.
        if let Poll::Ready(Err(e)) = this.poll_write_records(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.session.writer().flush()?;
        this.poll_write_records(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.session.send_close_notify();
        match this.poll_write_records(cx) {
            Poll::Ready(_) => Pin::new(&mut this.inner).poll_close(cx),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The inner async stream seen as a blocking one by rustls: "not ready" becomes `WouldBlock`.
struct SyncIo<'a, 'b> {
    inner: &'a mut Box<dyn Transport>,
    cx: &'a mut Context<'b>,
}

impl Read for SyncIo<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.inner).poll_read(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for SyncIo<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.inner).poll_write(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match Pin::new(&mut *self.inner).poll_flush(self.cx) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// A handshake failure as our error: rustls' own message (it names the certificate problem).
fn tls_error(e: io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => Error::Tls(tls.to_string()),
        None => Error::ConnectionLost(e.to_string()),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for `ssl`: trusted roots, how much to verify, and the client certificate.
pub fn client_config(ssl: &SslOptions) -> Result<Arc<ClientConfig>, Error> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = if !ssl.verify_cert {
        Arc::new(Lenient { provider: provider.clone(), chain: None })
    } else {
        let Some(ca) = ssl.ca.as_deref() else {
            // No bundled root store: it would double the component for a case servers rarely meet.
            return Err(Error::Programming("ssl: verify_cert needs 'ca' (PEM text of the CA certificates)".into()));
        };
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
            let cert = cert.map_err(|e| Error::Programming(format!("ssl: cannot read 'ca' as PEM: {e}")))?;
            roots.add(cert).map_err(|e| Error::Programming(format!("ssl: 'ca' holds an unusable certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(Error::Programming("ssl: 'ca' holds no PEM certificate".into()));
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::Programming(format!("ssl: {e}")))?;
        if ssl.verify_identity {
            webpki
        } else {
            Arc::new(Lenient { provider: provider.clone(), chain: Some(webpki) })
        }
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let config = match (ssl.cert.as_deref(), ssl.key.as_deref()) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Programming(format!("ssl: cannot read 'cert' as PEM: {e}")))?;
            if chain.is_empty() {
                return Err(Error::Programming("ssl: 'cert' holds no PEM certificate".into()));
            }
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| Error::Programming(format!("ssl: cannot read 'key' as a PEM private key: {e}")))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| Error::Programming(format!("ssl: cert/key: {e}")))?
        }
        _ => return Err(Error::Programming("ssl: 'cert' and 'key' must be given together".into())),
    };
    Ok(Arc::new(config))
}

/// A verifier that checks less than webpki's full check: with `chain`, the chain must lead to a
/// trusted CA but the host name is not checked (`verify_identity = false`); without, any
/// certificate is accepted (`verify_cert = false`). Either way the handshake signatures are
/// checked, so the peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        // webpki checks the chain first and the name last, so a name error means the chain is good.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cert_without_ca_is_a_programming_error() {
        let ssl = SslOptions { verify_cert: true, ..SslOptions::default() };
        assert!(matches!(client_config(&ssl), Err(Error::Programming(m)) if m.contains("'ca'")));
    }

    #[test]
    fn no_verification_needs_no_ca() {
        assert!(client_config(&SslOptions::default()).is_ok());
    }

    #[test]
    fn cert_without_key_is_refused() {
        let ssl = SslOptions { cert: Some(String::new()), ..SslOptions::default() };
        assert!(matches!(client_config(&ssl), Err(Error::Programming(_))));
    }

    #[test]
    fn ca_that_is_not_pem_is_refused() {
        let ssl = SslOptions { ca: Some("not a pem".into()), verify_cert: true, ..SslOptions::default() };
        assert!(matches!(client_config(&ssl), Err(Error::Programming(_))));
    }
}
