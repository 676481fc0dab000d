//! Mutually authenticated TLS 1.3 for every link: X1, X2/X3 (TS 103 221-1/-2) and HI2/HI3
//! (TS 102 232-1).
//!
//! - [`server_config`] / [`client_config`] build rustls configurations from PEM: TLS 1.3 only,
//!   the ring crypto provider (never a process default), and client certificates required and
//!   verified against the configured CA on the server side. [`load_server_config`] and
//!   [`load_client_config`] do the same from files named by [`TlsFiles`].
//! - [`accept`] / [`connect`] run a handshake bounded by [`HANDSHAKE_TIMEOUT`] and, when it fails,
//!   log one `warn` line naming the link, the peer and the [`Refusal`] reason an operator can act
//!   on (unknown CA, expired, no certificate ...).
//! - [`peer_identity`] / [`certificate_identity`] name the authenticated peer: the subject
//!   common name, else the first DNS or IP subjectAltName (a walk with li-asn1's BER reader, no
//!   X.509 parser).
//! - `DevPki` (cargo feature `dev-pki`, which brings in rcgen) is a throw-away CA for tests,
//!   demos and the `dev-certs` command; production builds leave it out.
//!
//! With TLS 1.3 the client finishes its handshake before the server has checked the client
//! certificate, so a client the server refuses sees the refusal on its first read (the server's
//! alert); [`Refusal::from_io`] turns that read error into the same operator-readable reason.
//!
//! # Example
//!
//! ```
//! use li_handover::tls::{client_config, server_config, DevPki, Validity};
//!
//! let pki = DevPki::new("li-suite dev CA")?;
//! let mdf = pki.issue("mdf", &["mdf.example"], &[], Validity::Default)?;
//! let probe = pki.issue("probe-1", &[], &[], Validity::Default)?;
//!
//! let ca = pki.ca_pem.as_bytes();
//! let server = server_config(ca, mdf.cert_pem.as_bytes(), mdf.key_pem.as_bytes())?;
//! let client = client_config(ca, probe.cert_pem.as_bytes(), probe.key_pem.as_bytes())?;
//! let _acceptor = tokio_rustls::TlsAcceptor::from(server);
//! let _connector = tokio_rustls::TlsConnector::from(client);
//! # Ok::<(), li_handover::tls::TlsError>(())
//! ```

use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use li_asn1::ber::{Class, Reader, Tag, Tlv};
use rustls::crypto::CryptoProvider;
use rustls::server::{VerifierBuilderError, WebPkiClientVerifier};
use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "dev-pki")]
mod dev;

#[cfg(feature = "dev-pki")]
pub use dev::{DevPki, Identity, Validity};

/// How long [`accept`] and [`connect`] wait for a handshake to complete before giving up, so an
/// unauthenticated peer cannot hold a connection slot open by stalling.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS configuration and handshake errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM input is syntactically broken.
    #[error("{role} PEM is malformed: {source}")]
    Pem {
        /// Which input.
        role: PemRole,
        /// The PEM parser's complaint.
        source: pem::Error,
    },
    /// A PEM input holds no `CERTIFICATE` block.
    #[error("no CERTIFICATE block in the {role} PEM")]
    NoCertificate {
        /// Which input.
        role: PemRole,
    },
    /// The key PEM holds no unencrypted private key.
    #[error(
        "no private key in the key PEM (expected an unencrypted PKCS#8, PKCS#1 or SEC1 \
         `PRIVATE KEY` block)"
    )]
    NoPrivateKey,
    /// A CA certificate cannot serve as a trust anchor.
    #[error("CA certificate #{index} in the CA PEM is unusable as a trust anchor: {source}")]
    CaUnusable {
        /// Zero-based position of the certificate in the CA PEM.
        index: usize,
        /// Why rustls/webpki refused it.
        source: rustls::Error,
    },
    /// The client-certificate verifier could not be built from the CA.
    #[error("CA unusable for verifying client certificates: {0}")]
    Verifier(#[from] VerifierBuilderError),
    /// The certificate chain and private key cannot be used together (mismatch, unsupported
    /// key type).
    #[error("certificate chain and private key cannot be used together: {0}")]
    CertKey(rustls::Error),
    /// The crypto provider does not support TLS 1.3 (cannot happen with ring).
    #[error("cannot restrict the configuration to TLS 1.3: {0}")]
    Protocol(rustls::Error),
    /// A configuration error found in a file (from [`load_server_config`] and friends).
    #[error("{}: {source}", path.display())]
    File {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<TlsError>,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The name given to [`connect`] is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {name:?}")]
    ServerName {
        /// The offending name.
        name: String,
    },
    /// A TLS handshake failed or was refused.
    #[error("{what}: TLS handshake with {peer} failed: {reason}")]
    Handshake {
        /// The link, e.g. "HI2 listener".
        what: String,
        /// The peer: socket address on the server side, server name on the client side.
        peer: String,
        /// The operator-readable reason.
        reason: Refusal,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Dev PKI certificate generation failed.
    #[cfg(feature = "dev-pki")]
    #[error("dev PKI: {0}")]
    DevPki(#[from] rcgen::Error),
    /// A name given to `DevPki::write_to` cannot be used as a file name.
    #[cfg(feature = "dev-pki")]
    #[error(
        "invalid dev certificate name {name:?}: use letters, digits, '.', '-', '_' \
         (not starting with '.', and not \"ca\")"
    )]
    InvalidName {
        /// The offending name.
        name: String,
    },
}

impl TlsError {
    /// Attributes a configuration error to the file it came from.
    fn in_files(self, files: &TlsFiles) -> Self {
        let path = match &self {
            Self::Pem { role, .. } | Self::NoCertificate { role } => match role {
                PemRole::Ca => &files.ca,
                PemRole::CertChain => &files.cert,
                PemRole::Key => &files.key,
            },
            Self::CaUnusable { .. } | Self::Verifier(_) => &files.ca,
            Self::NoPrivateKey | Self::CertKey(_) => &files.key,
            _ => return self,
        };
        Self::File {
            path: path.clone(),
            source: Box::new(self),
        }
    }
}

/// Which PEM input a [`TlsError`] concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemRole {
    /// The trusted CA certificate(s).
    Ca,
    /// Our own certificate chain.
    CertChain,
    /// Our own private key.
    Key,
}

impl fmt::Display for PemRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ca => "CA certificate",
            Self::CertChain => "certificate chain",
            Self::Key => "private key",
        })
    }
}

/// Why a handshake failed, in the terms an operator acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The peer's certificate is not issued by a CA we trust.
    UnknownCa,
    /// The peer's certificate has expired.
    Expired {
        /// How long ago, when known.
        seconds_ago: Option<u64>,
    },
    /// The peer's certificate is not valid yet (clock skew?).
    NotYetValid {
        /// How far in the future it becomes valid, when known.
        seconds_ahead: Option<u64>,
    },
    /// The peer's certificate has been revoked.
    Revoked,
    /// The peer presented no certificate.
    NoCertificate,
    /// The peer's certificate was rejected for another reason (wrong name, wrong usage,
    /// bad signature ...).
    BadCertificate {
        /// rustls' description.
        detail: String,
    },
    /// The peer aborted the handshake with a TLS alert (typically: it refused our certificate).
    PeerAlert(AlertDescription),
    /// A TLS protocol failure (incompatible versions or cipher suites, malformed message ...).
    Protocol {
        /// rustls' description.
        detail: String,
    },
    /// The handshake did not complete in time.
    Timeout(Duration),
    /// The connection failed or was closed during the handshake.
    Connection {
        /// The I/O error's description.
        detail: String,
    },
}

impl Refusal {
    /// Classifies an I/O error from a handshake, or from the first read after a TLS 1.3 client
    /// handshake (where a server's refusal of the client certificate arrives).
    pub fn from_io(err: &io::Error) -> Self {
        match err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => Self::from_rustls(tls),
            None => Self::Connection {
                detail: err.to_string(),
            },
        }
    }

    /// Classifies a rustls error.
    pub fn from_rustls(err: &rustls::Error) -> Self {
        match err {
            rustls::Error::NoCertificatesPresented => Self::NoCertificate,
            rustls::Error::AlertReceived(alert) => Self::PeerAlert(*alert),
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => Self::UnknownCa,
                CertificateError::Expired => Self::Expired { seconds_ago: None },
                CertificateError::ExpiredContext { time, not_after } => Self::Expired {
                    seconds_ago: Some(time.as_secs().saturating_sub(not_after.as_secs())),
                },
                CertificateError::NotValidYet => Self::NotYetValid {
                    seconds_ahead: None,
                },
                CertificateError::NotValidYetContext { time, not_before } => Self::NotYetValid {
                    seconds_ahead: Some(not_before.as_secs().saturating_sub(time.as_secs())),
                },
                CertificateError::Revoked => Self::Revoked,
                other => Self::BadCertificate {
                    detail: other.to_string(),
                },
            },
            other => Self::Protocol {
                detail: other.to_string(),
            },
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownCa => {
                f.write_str("peer certificate is not issued by a trusted CA (unknown CA)")
            }
            Self::Expired { seconds_ago } => {
                f.write_str("peer certificate has expired")?;
                match seconds_ago {
                    Some(secs) => write!(f, " ({secs} s ago)"),
                    None => Ok(()),
                }
            }
            Self::NotYetValid { seconds_ahead } => {
                f.write_str("peer certificate is not valid yet")?;
                match seconds_ahead {
                    Some(secs) => write!(f, " (valid in {secs} s; check the clocks)"),
                    None => Ok(()),
                }
            }
            Self::Revoked => f.write_str("peer certificate has been revoked"),
            Self::NoCertificate => f.write_str("peer presented no certificate"),
            Self::BadCertificate { detail } => write!(f, "peer certificate rejected: {detail}"),
            Self::PeerAlert(alert) => match alert {
                AlertDescription::UnknownCA => {
                    f.write_str("peer does not trust our certificate (alert: unknown CA)")
                }
                AlertDescription::CertificateExpired => f.write_str(
                    "peer says our certificate has expired (alert: certificate expired)",
                ),
                AlertDescription::CertificateRequired => {
                    f.write_str("peer requires a client certificate (alert: certificate required)")
                }
                AlertDescription::BadCertificate => {
                    f.write_str("peer rejected our certificate (alert: bad certificate)")
                }
                other => write!(f, "peer aborted the handshake (alert: {other:?})"),
            },
            Self::Protocol { detail } => write!(f, "TLS protocol error: {detail}"),
            Self::Timeout(limit) => {
                write!(f, "handshake did not complete within {} s", limit.as_secs())
            }
            Self::Connection { detail } => write!(f, "connection failed: {detail}"),
        }
    }
}

/// Builds a TLS 1.3 server configuration that requires a client certificate issued by one of
/// the CAs in `ca_pem`, and presents `cert_chain_pem` (leaf first) with `key_pem`.
pub fn server_config(
    ca_pem: &[u8],
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = ring_provider();
    let roots = Arc::new(root_store(ca_pem)?);
    let chain = certificates(cert_chain_pem, PemRole::CertChain)?;
    let key = private_key(key_pem)?;
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots, Arc::clone(&provider)).build()?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Protocol)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(TlsError::CertKey)?;
    Ok(Arc::new(config))
}

/// Builds a TLS 1.3 client configuration that verifies the server against the CAs in `ca_pem`
/// and presents `cert_chain_pem` (leaf first) with `key_pem` as the client certificate.
pub fn client_config(
    ca_pem: &[u8],
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = ring_provider();
    let roots = root_store(ca_pem)?;
    let chain = certificates(cert_chain_pem, PemRole::CertChain)?;
    let key = private_key(key_pem)?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Protocol)?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(TlsError::CertKey)?;
    Ok(Arc::new(config))
}

/// The PEM files of one TLS identity and its trust anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Trusted CA certificate(s).
    pub ca: PathBuf,
    /// Our certificate chain, leaf first.
    pub cert: PathBuf,
    /// Our private key (unencrypted PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// [`server_config`] from files; errors name the file at fault. Blocking: call at start-up or
/// from `spawn_blocking`.
pub fn load_server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let pem = read_files(files)?;
    server_config(&pem.ca, &pem.cert, &pem.key).map_err(|e| e.in_files(files))
}

/// [`client_config`] from files; errors name the file at fault. Blocking: call at start-up or
/// from `spawn_blocking`.
pub fn load_client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let pem = read_files(files)?;
    client_config(&pem.ca, &pem.cert, &pem.key).map_err(|e| e.in_files(files))
}

/// Runs the server side of a handshake on an accepted connection from `peer`.
///
/// On failure (including [`HANDSHAKE_TIMEOUT`]) logs one `warn` line naming `what` (the
/// listener, e.g. "HI2 listener"), the peer and the [`Refusal`], and returns
/// [`TlsError::Handshake`] with the same text. Needs a tokio runtime with the time driver.
pub async fn accept<S>(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: S,
    peer: SocketAddr,
    what: &str,
) -> Result<tokio_rustls::server::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (reason, source) =
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                tracing::debug!(
                    listener = what,
                    %peer,
                    identity = peer_identity(&tls).as_deref().unwrap_or("?"),
                    "{what}: TLS connection from {peer} accepted"
                );
                return Ok(tls);
            }
            Ok(Err(e)) => (Refusal::from_io(&e), e),
            Err(_) => timed_out(),
        };
    Err(refused(what, peer.to_string(), reason, source))
}

/// Runs the client side of a handshake to `server_name` (a DNS name or an IP address, checked
/// against the server certificate's subjectAltName) over `stream`.
///
/// On failure logs one `warn` line naming `what` (e.g. "X2 to MDF"), the server and the
/// [`Refusal`], and returns [`TlsError::Handshake`]. A server's refusal of *our* certificate
/// surfaces on the first read instead (TLS 1.3); classify it with [`Refusal::from_io`].
pub async fn connect<S>(
    connector: &tokio_rustls::TlsConnector,
    server_name: &str,
    stream: S,
    what: &str,
) -> Result<tokio_rustls::client::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(server_name.to_owned()).map_err(|_| TlsError::ServerName {
        name: server_name.to_owned(),
    })?;
    let (reason, source) =
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name, stream)).await {
            Ok(Ok(tls)) => return Ok(tls),
            Ok(Err(e)) => (Refusal::from_io(&e), e),
            Err(_) => timed_out(),
        };
    Err(refused(what, server_name.to_owned(), reason, source))
}

/// The authenticated client of a server-side stream: see [`certificate_identity`].
pub fn peer_identity<S>(stream: &tokio_rustls::server::TlsStream<S>) -> Option<String> {
    stream
        .get_ref()
        .1
        .peer_certificates()?
        .first()
        .and_then(certificate_identity)
}

/// A printable identity for a certificate: the subject common name, else the first DNS name or
/// IP address of its subjectAltName, else `None`.
///
/// Found by a walk with li-asn1's bounded BER reader (no signature or validity check: use it only on a
/// certificate rustls has already verified). Directory strings in UTF8String, PrintableString,
/// IA5String, T61String (when valid UTF-8) and BMPString are understood.
pub fn certificate_identity(cert: &CertificateDer<'_>) -> Option<String> {
    let cert = expect(&mut elements(cert.as_ref()), Tag::SEQUENCE)?;
    let tbs = expect(&mut elements(cert), Tag::SEQUENCE)?;
    let mut fields = elements(tbs).peekable();
    if fields.peek()?.tag == TAG_VERSION {
        fields.next();
    }
    let _serial = expect(&mut fields, Tag::INTEGER)?;
    let _signature = expect(&mut fields, Tag::SEQUENCE)?;
    let _issuer = expect(&mut fields, Tag::SEQUENCE)?;
    let _validity = expect(&mut fields, Tag::SEQUENCE)?;
    let subject = expect(&mut fields, Tag::SEQUENCE)?;
    if let Some(cn) = common_name(subject) {
        return Some(cn);
    }
    let _spki = expect(&mut fields, Tag::SEQUENCE)?;
    fields
        .find(|field| field.tag == TAG_EXTENSIONS)
        .and_then(|extensions| first_subject_alt_name(extensions.content))
}

/// SET, SET OF (constructed).
const TAG_SET: Tag = Tag::universal(17).into_constructed();
/// `[0] EXPLICIT Version` of TBSCertificate.
const TAG_VERSION: Tag = Tag::context_constructed(0);
/// `[3] EXPLICIT Extensions` of TBSCertificate.
const TAG_EXTENSIONS: Tag = Tag::context_constructed(3);
/// GeneralName `dNSName [2] IA5String`.
const TAG_SAN_DNS: Tag = Tag::context(2);
/// GeneralName `iPAddress [7] OCTET STRING`.
const TAG_SAN_IP: Tag = Tag::context(7);
/// id-at-commonName, 2.5.4.3.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// id-ce-subjectAltName, 2.5.29.17.
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn root_store(ca_pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for (index, cert) in certificates(ca_pem, PemRole::Ca)?.into_iter().enumerate() {
        store
            .add(cert)
            .map_err(|source| TlsError::CaUnusable { index, source })?;
    }
    Ok(store)
}

fn certificates(pem: &[u8], role: PemRole) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem { role, source })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { role });
    }
    Ok(certs)
}

fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|source| match source {
        pem::Error::NoItemsFound => TlsError::NoPrivateKey,
        source => TlsError::Pem {
            role: PemRole::Key,
            source,
        },
    })
}

/// The contents of the three files of a [`TlsFiles`].
struct PemFiles {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn read_files(files: &TlsFiles) -> Result<PemFiles, TlsError> {
    let read = |path: &Path| {
        fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    Ok(PemFiles {
        ca: read(&files.ca)?,
        cert: read(&files.cert)?,
        key: read(&files.key)?,
    })
}

fn timed_out() -> (Refusal, io::Error) {
    (
        Refusal::Timeout(HANDSHAKE_TIMEOUT),
        io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"),
    )
}

/// Logs the refusal and builds the error (same text).
fn refused(what: &str, peer: String, reason: Refusal, source: io::Error) -> TlsError {
    tracing::warn!(
        link = what,
        %peer,
        %reason,
        "{what}: TLS handshake with {peer} failed: {reason}"
    );
    TlsError::Handshake {
        what: what.to_owned(),
        peer,
        reason,
        source,
    }
}

/// The elements of `contents` in order, framed by li-asn1's BER reader (bounded, never
/// panics); the walk stops at the first element it cannot frame.
fn elements(contents: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut reader = Reader::new(contents);
    std::iter::from_fn(move || reader.next_tlv().ok().flatten())
}

/// The contents of the next element if it has `tag`.
fn expect<'a>(elements: &mut impl Iterator<Item = Tlv<'a>>, tag: Tag) -> Option<&'a [u8]> {
    elements
        .next()
        .filter(|element| element.tag == tag)
        .map(|element| element.content)
}

/// The first non-empty commonName of an X.501 Name.
fn common_name(name: &[u8]) -> Option<String> {
    for rdn in elements(name).take_while(|rdn| rdn.tag == TAG_SET) {
        for attribute in elements(rdn.content).take_while(|a| a.tag == Tag::SEQUENCE) {
            let mut parts = elements(attribute.content);
            if expect(&mut parts, Tag::OBJECT_IDENTIFIER) == Some(OID_COMMON_NAME)
                && let Some(value) = parts.next()
                && let Some(text) = directory_string(value.tag, value.content)
                && !text.is_empty()
            {
                return Some(text);
            }
        }
    }
    None
}

/// Decodes a DirectoryString (RFC 5280 clause 4.1.2.4) or IA5String.
fn directory_string(tag: Tag, bytes: &[u8]) -> Option<String> {
    if tag.class != Class::Universal || tag.constructed {
        return None;
    }
    match tag.number {
        // UTF8String, PrintableString, T61String, IA5String
        12 | 19 | 20 | 22 => String::from_utf8(bytes.to_vec()).ok(),
        // BMPString: UTF-16BE
        30 => {
            let units = bytes
                .chunks_exact(2)
                .filter_map(|pair| <[u8; 2]>::try_from(pair).ok().map(u16::from_be_bytes));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// The first dNSName or iPAddress in the subjectAltName extension of `extensions` (the
/// contents of TBSCertificate's `[3]`).
fn first_subject_alt_name(extensions: &[u8]) -> Option<String> {
    let list = expect(&mut elements(extensions), Tag::SEQUENCE)?;
    for extension in elements(list).take_while(|e| e.tag == Tag::SEQUENCE) {
        let mut parts = elements(extension.content).peekable();
        if expect(&mut parts, Tag::OBJECT_IDENTIFIER)? != OID_SUBJECT_ALT_NAME {
            continue;
        }
        if parts.peek().is_some_and(|part| part.tag == Tag::BOOLEAN) {
            parts.next(); // critical
        }
        let value = expect(&mut parts, Tag::OCTET_STRING)?;
        let names = expect(&mut elements(value), Tag::SEQUENCE)?;
        for name in elements(names) {
            if name.tag == TAG_SAN_DNS {
                return String::from_utf8(name.content.to_vec()).ok();
            }
            if name.tag == TAG_SAN_IP {
                if let Ok(v4) = <[u8; 4]>::try_from(name.content) {
                    return Some(IpAddr::from(v4).to_string());
                }
                if let Ok(v6) = <[u8; 16]>::try_from(name.content) {
                    return Some(IpAddr::from(v6).to_string());
                }
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use std::net::Ipv4Addr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use super::*;
    use crate::testlog::Capture;

    type ServerSide = Result<tokio_rustls::server::TlsStream<TcpStream>, TlsError>;
    type ClientSide = Result<tokio_rustls::client::TlsStream<TcpStream>, TlsError>;

    struct Fixture {
        pki: DevPki,
        server: Identity,
        client: Identity,
    }

    fn fixture() -> Fixture {
        let pki = DevPki::new("test CA").unwrap();
        let server = pki
            .issue(
                "mdf",
                &["mdf.test"],
                &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
                Validity::Default,
            )
            .unwrap();
        let client = pki.issue("probe-1", &[], &[], Validity::Default).unwrap();
        Fixture {
            pki,
            server,
            client,
        }
    }

    /// Runs both handshakes over a real 127.0.0.1 socket.
    async fn handshake(
        server: Arc<ServerConfig>,
        client: Arc<ClientConfig>,
        server_name: &str,
    ) -> (ServerSide, ClientSide) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(server);
        let connector = TlsConnector::from(client);
        let server_side = async {
            let (tcp, peer) = listener.accept().await.unwrap();
            accept(&acceptor, tcp, peer, "HI2 listener").await
        };
        let client_side = async {
            let tcp = TcpStream::connect(addr).await.unwrap();
            connect(&connector, server_name, tcp, "X2 to MDF").await
        };
        tokio::join!(server_side, client_side)
    }

    /// The reason and message of a refused handshake on either side; `side` names which
    /// end was expected to refuse, for the panic message.
    fn refusal<T>(result: Result<T, TlsError>, side: &str) -> (Refusal, String) {
        match result {
            Err(err @ TlsError::Handshake { .. }) => {
                let text = err.to_string();
                let TlsError::Handshake { reason, .. } = err else {
                    unreachable!()
                };
                (reason, text)
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("the {side} accepted the connection"),
        }
    }

    fn server_refusal(result: ServerSide) -> (Refusal, String) {
        refusal(result, "server")
    }

    fn client_refusal(result: ClientSide) -> (Refusal, String) {
        refusal(result, "client")
    }

    /// With TLS 1.3 the server's refusal of a client certificate reaches the client on its
    /// first read (or, rarely, already during the handshake).
    async fn refusal_seen_by_client(result: ClientSide) -> Refusal {
        match result {
            Ok(mut tls) => {
                let mut buf = [0_u8; 1];
                let err = tls.read(&mut buf).await.expect_err("read must fail");
                Refusal::from_io(&err)
            }
            Err(TlsError::Handshake { reason, .. }) => reason,
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[tokio::test]
    async fn good_client_exchanges_bytes_and_is_identified() {
        let f = fixture();
        let (server, client) = handshake(
            f.pki.server_config(&f.server).unwrap(),
            f.pki.client_config(&f.client).unwrap(),
            "mdf.test",
        )
        .await;
        let mut server = server.unwrap();
        let mut client = client.unwrap();
        assert_eq!(peer_identity(&server).as_deref(), Some("probe-1"));
        let server_cert = client
            .get_ref()
            .1
            .peer_certificates()
            .unwrap()
            .first()
            .unwrap();
        assert_eq!(certificate_identity(server_cert).as_deref(), Some("mdf"));
        assert_eq!(
            client.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );

        client.write_all(b"ping").await.unwrap();
        client.flush().await.unwrap();
        let mut buf = [0_u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.write_all(b"pong").await.unwrap();
        server.flush().await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    }

    #[tokio::test]
    async fn server_name_may_be_an_ip_address() {
        let f = fixture();
        let (server, client) = handshake(
            f.pki.server_config(&f.server).unwrap(),
            f.pki.client_config(&f.client).unwrap(),
            "127.0.0.1",
        )
        .await;
        assert!(server.is_ok() && client.is_ok());
    }

    #[tokio::test]
    async fn client_certificate_from_another_ca_is_refused_and_logged() {
        let f = fixture();
        let other = DevPki::new("rogue CA").unwrap();
        let rogue = other.issue("probe-1", &[], &[], Validity::Default).unwrap();
        let client_cfg = client_config(
            f.pki.ca_pem.as_bytes(),
            rogue.cert_pem.as_bytes(),
            rogue.key_pem.as_bytes(),
        )
        .unwrap();

        let (log, guard) = capture_warnings();
        let (server, client) = handshake(
            f.pki.server_config(&f.server).unwrap(),
            client_cfg,
            "mdf.test",
        )
        .await;
        drop(guard);

        let (reason, text) = server_refusal(server);
        assert_eq!(reason, Refusal::UnknownCa);
        assert!(
            text.starts_with("HI2 listener: TLS handshake with 127.0.0.1:"),
            "{text}"
        );
        assert!(
            text.ends_with("failed: peer certificate is not issued by a trusted CA (unknown CA)"),
            "{text}"
        );
        assert_eq!(
            refusal_seen_by_client(client).await,
            Refusal::PeerAlert(AlertDescription::UnknownCA)
        );

        let warnings = log.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let line = &warnings[0];
        assert!(line.starts_with(&text), "{line}");
        assert!(line.contains("link=\"HI2 listener\""), "{line}");
        assert!(line.contains("peer=127.0.0.1:"), "{line}");
        assert!(
            line.contains("reason=peer certificate is not issued by a trusted CA"),
            "{line}"
        );
    }

    #[tokio::test]
    async fn expired_client_certificate_is_refused() {
        let f = fixture();
        let expired = f.pki.issue("probe-1", &[], &[], Validity::Expired).unwrap();
        let (server, client) = handshake(
            f.pki.server_config(&f.server).unwrap(),
            f.pki.client_config(&expired).unwrap(),
            "mdf.test",
        )
        .await;
        let (reason, text) = server_refusal(server);
        let Refusal::Expired {
            seconds_ago: Some(ago),
        } = reason
        else {
            panic!("{reason:?}")
        };
        assert!((86_400..2 * 86_400).contains(&ago), "{ago}");
        assert!(
            text.contains("failed: peer certificate has expired ("),
            "{text}"
        );
        assert_eq!(
            refusal_seen_by_client(client).await,
            Refusal::PeerAlert(AlertDescription::CertificateExpired)
        );
    }

    #[tokio::test]
    async fn client_without_certificate_is_refused() {
        let f = fixture();
        let mut roots = RootCertStore::empty();
        for cert in certificates(f.pki.ca_pem.as_bytes(), PemRole::Ca).unwrap() {
            roots.add(cert).unwrap();
        }
        let anonymous = ClientConfig::builder_with_provider(ring_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let (server, client) = handshake(
            f.pki.server_config(&f.server).unwrap(),
            Arc::new(anonymous),
            "mdf.test",
        )
        .await;
        let (reason, text) = server_refusal(server);
        assert_eq!(reason, Refusal::NoCertificate);
        assert!(
            text.ends_with("failed: peer presented no certificate"),
            "{text}"
        );
        let seen = refusal_seen_by_client(client).await;
        assert_eq!(
            seen,
            Refusal::PeerAlert(AlertDescription::CertificateRequired)
        );
        assert_eq!(
            seen.to_string(),
            "peer requires a client certificate (alert: certificate required)"
        );
    }

    #[tokio::test]
    async fn client_refuses_server_from_another_ca() {
        let f = fixture();
        let other = DevPki::new("rogue CA").unwrap();
        let rogue = other
            .issue("mdf", &["mdf.test"], &[], Validity::Default)
            .unwrap();
        let server_cfg = server_config(
            f.pki.ca_pem.as_bytes(),
            rogue.cert_pem.as_bytes(),
            rogue.key_pem.as_bytes(),
        )
        .unwrap();
        let (server, client) = handshake(
            server_cfg,
            f.pki.client_config(&f.client).unwrap(),
            "mdf.test",
        )
        .await;
        let (reason, text) = client_refusal(client);
        assert_eq!(reason, Refusal::UnknownCa);
        assert_eq!(
            text,
            "X2 to MDF: TLS handshake with mdf.test failed: peer certificate is not issued by a \
             trusted CA (unknown CA)"
        );
        let (reason, text) = server_refusal(server);
        assert_eq!(reason, Refusal::PeerAlert(AlertDescription::UnknownCA));
        assert!(
            text.ends_with("peer does not trust our certificate (alert: unknown CA)"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn client_refuses_expired_server_certificate() {
        let f = fixture();
        let expired = f
            .pki
            .issue("mdf", &["mdf.test"], &[], Validity::Expired)
            .unwrap();
        let (server, client) = handshake(
            f.pki.server_config(&expired).unwrap(),
            f.pki.client_config(&f.client).unwrap(),
            "mdf.test",
        )
        .await;
        let (reason, text) = client_refusal(client);
        assert!(
            matches!(
                reason,
                Refusal::Expired {
                    seconds_ago: Some(_)
                }
            ),
            "{reason:?}"
        );
        assert!(text.contains("peer certificate has expired"), "{text}");
        let (reason, _) = server_refusal(server);
        assert_eq!(
            reason,
            Refusal::PeerAlert(AlertDescription::CertificateExpired)
        );
    }

    #[tokio::test]
    async fn client_refuses_server_certificate_for_another_name() {
        let f = fixture();
        let (_server, client) = handshake(
            f.pki.server_config(&f.server).unwrap(),
            f.pki.client_config(&f.client).unwrap(),
            "lemf.test",
        )
        .await;
        let (reason, _) = client_refusal(client);
        let Refusal::BadCertificate { detail } = &reason else {
            panic!("{reason:?}")
        };
        assert!(detail.contains("not valid for name"), "{detail}");
    }

    #[tokio::test]
    async fn connect_rejects_an_invalid_server_name() {
        let f = fixture();
        let connector = TlsConnector::from(f.pki.client_config(&f.client).unwrap());
        let (tcp, _other) = tokio::io::duplex(64);
        let err = connect(&connector, "not a name!", tcp, "X1")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid TLS server name \"not a name!\"");
    }

    #[test]
    fn config_errors_name_what_is_wrong() {
        let f = fixture();
        let ca = f.pki.ca_pem.as_bytes();
        let cert = f.server.cert_pem.as_bytes();
        let key = f.server.key_pem.as_bytes();

        let err = server_config(b"", cert, key).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no CERTIFICATE block in the CA certificate PEM"
        );
        let err = client_config(ca, f.server.key_pem.as_bytes(), key).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no CERTIFICATE block in the certificate chain PEM"
        );
        let err = server_config(ca, cert, cert).unwrap_err();
        assert!(matches!(err, TlsError::NoPrivateKey), "{err}");
        let err = server_config(ca, cert, f.client.key_pem.as_bytes()).unwrap_err();
        assert!(matches!(err, TlsError::CertKey(_)), "{err}");
        assert!(
            err.to_string()
                .starts_with("certificate chain and private key cannot be used together")
        );
        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = client_config(broken.as_bytes(), cert, key).unwrap_err();
        assert!(
            matches!(
                err,
                TlsError::Pem {
                    role: PemRole::Ca,
                    ..
                }
            ),
            "{err}"
        );
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = client_config(garbage.as_bytes(), cert, key).unwrap_err();
        assert!(
            matches!(err, TlsError::CaUnusable { index: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn dev_pki_files_round_trip_and_errors_name_the_path() {
        let dir = scratch_dir();
        let pki = DevPki::new("dev CA").unwrap();
        let files = pki.write_to(&dir, &["mdf", "lemf-1"]).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].ca, dir.join("ca.pem"));
        assert_eq!(files[1].key, dir.join("lemf-1.key"));
        load_server_config(&files[0]).unwrap();
        load_client_config(&files[1]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&files[0].key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let identity =
            certificate_identity(&CertificateDer::from_pem_file(&files[1].cert).unwrap());
        assert_eq!(identity.as_deref(), Some("lemf-1"));

        let swapped = TlsFiles {
            key: files[0].cert.clone(),
            ..files[0].clone()
        };
        let err = load_server_config(&swapped).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}: no private key", files[0].cert.display())),
            "{err}"
        );
        let missing = TlsFiles {
            ca: dir.join("nope.pem"),
            ..files[0].clone()
        };
        let err = load_client_config(&missing).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read {}", dir.join("nope.pem").display())),
            "{err}"
        );

        let err = pki.write_to(&dir, &["../evil"]).unwrap_err();
        assert!(matches!(err, TlsError::InvalidName { .. }), "{err}");
        let err = pki.write_to(&dir, &["ca"]).unwrap_err();
        assert!(matches!(err, TlsError::InvalidName { .. }), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn identity_falls_back_to_subject_alt_names() {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["x1.test".to_owned()]).unwrap();
        params.distinguished_name = DistinguishedName::new();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(certificate_identity(cert.der()).as_deref(), Some("x1.test"));

        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![SanType::IpAddress("2001:db8::1".parse().unwrap())];
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            certificate_identity(cert.der()).as_deref(),
            Some("2001:db8::1")
        );

        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(certificate_identity(cert.der()), None);
    }

    #[test]
    fn identity_reads_bmp_common_names_and_never_panics() {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(
            DnType::CommonName,
            rcgen::DnValue::BmpString(rcgen::string::BmpString::try_from("Münster").unwrap()),
        );
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        assert_eq!(
            certificate_identity(&CertificateDer::from(der.clone())).as_deref(),
            Some("Münster")
        );
        for len in 0..der.len() {
            let _ = certificate_identity(&CertificateDer::from(&der[..len]));
        }
        for i in 0..der.len() {
            let mut flipped = der.clone();
            flipped[i] ^= 0xff;
            let _ = certificate_identity(&CertificateDer::from(flipped));
        }
    }

    /// Captures this thread's warn lines (see [`crate::testlog::capture_warnings`]), probing
    /// with the warn line of [`refused`].
    fn capture_warnings() -> (Capture, tracing::subscriber::DefaultGuard) {
        crate::testlog::capture_warnings(|| {
            let _ = refused(
                "probe",
                String::new(),
                Refusal::NoCertificate,
                io::Error::other("probe"),
            );
        })
    }

    fn scratch_dir() -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        std::env::temp_dir().join(format!(
            "li-handover-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }
}
