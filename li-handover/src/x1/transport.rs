//! X1 over HTTPS with mutual TLS (TS 103 221-1 clause 7): each request is an HTTP/1.1 POST
//! of an `X1Request` document, answered by an `X1Response` document with status 200.
//!
//! - [`serve`] runs an NE's (POI or MDF) listener: TLS handshakes through
//!   [`crate::tls::accept`] (refusals are logged with their reason), an optional allow-list of
//!   certificate identities and of `admfIdentifier`s, a body size limit and read timeouts; it
//!   decodes each request, calls the [`X1Handler`] and encodes its response. A request whose
//!   header decodes but whose body does not is answered with an `ErrorResponse` per message
//!   naming the element and byte (and nothing in that request is executed); a document that
//!   is not even an `X1Request` with readable headers gets HTTP 400 with a plain-text reason.
//! - [`X1Client`] is the ADMF's side: one connection per request, with connect and request
//!   timeouts; a refusal of our certificate by the NE is reported as [`crate::tls::Refusal`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use li_core::Timestamp;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::X1Error;
use super::model::{
    ErrorInformation, ErrorResponse, MessageHeader, ResponseBody, ResponseMessage, X1Request,
    X1Response, X1Version, error_code,
};
use super::xml::{DecodeLimits, Outcome, decode_request_outcomes};
use crate::tls::{Refusal, TlsError};

/// A boxed, sendable future (what [`X1Handler::handle`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The authenticated peer of an X1 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X1Peer {
    /// Its socket address.
    pub addr: SocketAddr,
    /// Its certificate identity ([`crate::tls::peer_identity`]).
    pub identity: Option<String>,
}

/// Executes X1 requests at an NE. Any `Fn(X1Request, X1Peer) -> impl Future<Output =
/// X1Response>` closure is one.
///
/// The handler answers each message of the request (usually one response message per request
/// message, in order, each repeating its request's `x1TransactionId`).
pub trait X1Handler: Send + Sync + 'static {
    /// Handles one decoded request from `peer`.
    fn handle<'a>(&'a self, request: X1Request, peer: X1Peer) -> BoxFuture<'a, X1Response>;
}

impl<F, Fut> X1Handler for F
where
    F: Fn(X1Request, X1Peer) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = X1Response> + Send + 'static,
{
    fn handle<'a>(&'a self, request: X1Request, peer: X1Peer) -> BoxFuture<'a, X1Response> {
        Box::pin(self(request, peer))
    }
}

/// Told of every X1 client refused (TLS handshake failed, or identity not allowed): its
/// address and why. For the audit log; called on the connection's task.
pub type RefusalObserver = Arc<dyn Fn(SocketAddr, &str) + Send + Sync>;

/// Settings of [`serve`].
#[derive(Clone)]
pub struct X1ServerConfig {
    /// Largest request body accepted (HTTP 413 beyond); also the decoder's document limit.
    pub max_body_len: usize,
    /// Nesting limit of the decoder.
    pub max_depth: usize,
    /// How long a client may take to send a request's headers, and then its body.
    pub request_timeout: Duration,
    /// When set, only clients whose certificate identity ([`crate::tls::peer_identity`]) is
    /// listed are served; others are disconnected after the handshake, with a warn line.
    pub allowed_identities: Option<Vec<String>>,
    /// When set, only requests whose every message has a listed `admfIdentifier` are
    /// executed; others are answered with `ErrorResponse`s
    /// ([`error_code::ADMF_NOT_AUTHORISED`]), with a warn line.
    pub allowed_admfs: Option<Vec<String>>,
    /// Called for every refused client (besides the warn log line).
    pub on_refused: Option<RefusalObserver>,
}

impl std::fmt::Debug for X1ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X1ServerConfig")
            .field("max_body_len", &self.max_body_len)
            .field("max_depth", &self.max_depth)
            .field("request_timeout", &self.request_timeout)
            .field("allowed_identities", &self.allowed_identities)
            .field("allowed_admfs", &self.allowed_admfs)
            .field("on_refused", &self.on_refused.is_some())
            .finish()
    }
}

impl Default for X1ServerConfig {
    /// 1 MiB, 32 levels, 30 s, no allow-lists (the CA alone decides).
    fn default() -> Self {
        Self {
            max_body_len: DecodeLimits::DEFAULT.max_len,
            max_depth: DecodeLimits::DEFAULT.max_depth,
            request_timeout: Duration::from_secs(30),
            allowed_identities: None,
            allowed_admfs: None,
            on_refused: None,
        }
    }
}

/// The link name in log lines and TLS errors of the listener.
const LISTENER: &str = "X1 listener";

/// Serves X1 on `listener` until `shutdown` turns `true` (or its sender is dropped); then
/// stops accepting, lets each connection finish its request in progress, and returns.
///
/// Errors: none today other than what accepting may return persistently; accept errors are
/// logged and retried after a short pause.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handler: Arc<dyn X1Handler>,
    config: X1ServerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let config = Arc::new(config);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    connections.spawn(connection(
                        tcp,
                        peer,
                        acceptor.clone(),
                        Arc::clone(&handler),
                        Arc::clone(&config),
                        shutdown.clone(),
                    ));
                }
                Err(e) => {
                    tracing::warn!(listener = LISTENER, error = %e, "{LISTENER}: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    handler: Arc<dyn X1Handler>,
    config: Arc<X1ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    // a refused handshake is logged by `accept`
    let tls = match crate::tls::accept(&acceptor, tcp, peer, LISTENER).await {
        Ok(tls) => tls,
        Err(e) => {
            if let Some(observer) = &config.on_refused {
                observer(peer, &format!("TLS handshake failed: {e}"));
            }
            return;
        }
    };
    let identity = crate::tls::peer_identity(&tls);
    if let Some(allowed) = &config.allowed_identities
        && !identity.as_ref().is_some_and(|id| allowed.contains(id))
    {
        let shown = identity.as_deref().unwrap_or("(none)");
        tracing::warn!(
            listener = LISTENER,
            %peer,
            identity = shown,
            "{LISTENER}: refused {peer}: certificate identity {shown:?} is not in the X1 \
             allow-list"
        );
        if let Some(observer) = &config.on_refused {
            observer(
                peer,
                &format!("certificate identity {shown:?} is not in the X1 allow-list"),
            );
        }
        return;
    }
    let x1_peer = X1Peer {
        addr: peer,
        identity,
    };
    let service = {
        let config = Arc::clone(&config);
        service_fn(move |request| {
            let handler = Arc::clone(&handler);
            let config = Arc::clone(&config);
            let peer = x1_peer.clone();
            async move { Ok::<_, Infallible>(http_exchange(request, &*handler, &config, peer).await) }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.request_timeout)
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(listener = LISTENER, %peer, "{LISTENER}: connection from {peer} ended: {e}");
    }
}

async fn http_exchange(
    request: Request<Incoming>,
    handler: &dyn X1Handler,
    config: &X1ServerConfig,
    peer: X1Peer,
) -> Response<Full<Bytes>> {
    let addr = peer.addr;
    if request.method() != Method::POST {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "X1 expects an HTTP POST of an X1Request document".to_owned(),
        );
    }
    let body = Limited::new(request.into_body(), config.max_body_len);
    let body = match tokio::time::timeout(config.request_timeout, body.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            let text = format!("X1 request body larger than {} bytes", config.max_body_len);
            tracing::warn!(listener = LISTENER, peer = %addr, "{LISTENER}: {addr}: {text}");
            return plain(StatusCode::PAYLOAD_TOO_LARGE, text);
        }
        Ok(Err(e)) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            );
        }
        Err(_) => {
            return plain(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request body not received within {} s",
                    config.request_timeout.as_secs()
                ),
            );
        }
    };
    let limits = DecodeLimits {
        max_len: config.max_body_len,
        max_depth: config.max_depth,
    };
    let outcomes = match decode_request_outcomes(&body, &limits) {
        Ok(outcomes) => outcomes,
        Err(e) => return malformed(addr, &e),
    };
    let response = match refusal(&outcomes, config, addr) {
        Err(unanswerable) => return malformed(addr, &unanswerable),
        Ok(Some(refused)) => refused,
        Ok(None) => {
            let messages = outcomes
                .into_iter()
                .filter_map(|o| match o {
                    Outcome::Decoded(m) => Some(m),
                    Outcome::Failed { .. } => None,
                })
                .collect();
            handler.handle(X1Request { messages }, peer).await
        }
    };
    match response.to_xml() {
        Ok(xml) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(Full::new(Bytes::from(xml)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        Err(e) => {
            tracing::error!(listener = LISTENER, peer = %addr, "{LISTENER}: the handler's response to {addr} cannot be encoded: {e}");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the NE's X1 response cannot be encoded: {e}"),
            )
        }
    }
}

/// The answer when a request must not reach the handler: a message failed to decode, or an
/// ADMF is not allowed. `Err` when a failed message's type is unknown (no `ErrorResponse` can
/// name it).
fn refusal(
    outcomes: &[Outcome],
    config: &X1ServerConfig,
    addr: SocketAddr,
) -> Result<Option<X1Response>, X1Error> {
    let now = Timestamp::from_system_time(SystemTime::now());
    fn header(o: &Outcome) -> &MessageHeader {
        match o {
            Outcome::Decoded(m) => &m.header,
            Outcome::Failed { header, .. } => header,
        }
    }
    let unauthorised = |o: &Outcome| {
        config
            .allowed_admfs
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(&header(o).admf_identifier))
    };
    let any_failed = outcomes.iter().any(|o| matches!(o, Outcome::Failed { .. }));
    let any_unauthorised = outcomes.iter().any(unauthorised);
    if !any_failed && !any_unauthorised {
        return Ok(None);
    }
    let mut messages = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let (kind, code, description) = match outcome {
            Outcome::Failed {
                kind: None, error, ..
            } => {
                return Err(X1Error::Decode {
                    path: "X1Request".to_owned(),
                    reason: format!("a message's request type cannot be identified: {error}"),
                    offset: 0,
                });
            }
            Outcome::Failed {
                kind: Some(kind),
                error,
                header,
            } => {
                let code = match error {
                    X1Error::Decode { reason, .. } if reason.contains("not supported") => {
                        error_code::UNSUPPORTED
                    }
                    _ => error_code::MALFORMED_REQUEST,
                };
                tracing::warn!(
                    listener = LISTENER,
                    peer = %addr,
                    admf = header.admf_identifier.as_str(),
                    "{LISTENER}: malformed X1 request from {addr}: {error}"
                );
                (*kind, code, error.to_string())
            }
            Outcome::Decoded(m) if unauthorised(outcome) => {
                tracing::warn!(
                    listener = LISTENER,
                    peer = %addr,
                    admf = m.header.admf_identifier.as_str(),
                    "{LISTENER}: refused X1 request from {addr}: admfIdentifier {:?} is not \
                     in the allow-list",
                    m.header.admf_identifier
                );
                (
                    m.body.message_type(),
                    error_code::ADMF_NOT_AUTHORISED,
                    format!(
                        "admfIdentifier {:?} is not authorised at this NE",
                        m.header.admf_identifier
                    ),
                )
            }
            Outcome::Decoded(m) => (
                m.body.message_type(),
                error_code::NOT_EXECUTED,
                "not executed: another message in the same X1Request was refused".to_owned(),
            ),
        };
        messages.push(ResponseMessage {
            header: MessageHeader {
                version: X1Version::CURRENT,
                ..MessageHeader::response_to(header(outcome), now)
            },
            body: ResponseBody::Error(ErrorResponse {
                request_message_type: kind,
                error: ErrorInformation { code, description },
                extended_request_message_type: None,
            }),
        });
    }
    Ok(Some(X1Response { messages }))
}

fn malformed(addr: SocketAddr, error: &X1Error) -> Response<Full<Bytes>> {
    tracing::warn!(listener = LISTENER, peer = %addr, "{LISTENER}: malformed X1 request from {addr}: {error}");
    plain(
        StatusCode::BAD_REQUEST,
        format!("malformed X1 request: {error}"),
    )
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text + "\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Settings of an [`X1Client`].
#[derive(Clone, Debug)]
pub struct X1ClientConfig {
    /// TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// Sending the request and receiving the whole response.
    pub request_timeout: Duration,
    /// Largest response accepted, and the decoder's limits.
    pub limits: DecodeLimits,
    /// The HTTP request path.
    pub path: String,
}

impl Default for X1ClientConfig {
    /// 10 s, 30 s, [`DecodeLimits::DEFAULT`], `/X1`.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            limits: DecodeLimits::DEFAULT,
            path: "/X1".to_owned(),
        }
    }
}

/// The ADMF side of X1: sends requests to one NE over mutual TLS.
#[derive(Clone)]
pub struct X1Client {
    connector: TlsConnector,
    addr: SocketAddr,
    server_name: String,
    config: X1ClientConfig,
}

impl std::fmt::Debug for X1Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X1Client")
            .field("addr", &self.addr)
            .field("server_name", &self.server_name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl X1Client {
    /// A client of the NE at `addr`, whose certificate must be valid for `server_name` (a
    /// DNS name or IP address), with [`X1ClientConfig::default`].
    pub fn new(connector: TlsConnector, addr: SocketAddr, server_name: impl Into<String>) -> Self {
        Self {
            connector,
            addr,
            server_name: server_name.into(),
            config: X1ClientConfig::default(),
        }
    }

    /// Replaces the settings.
    #[must_use]
    pub fn with_config(mut self, config: X1ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// Sends `request` on a new connection and returns the NE's response.
    ///
    /// Errors: [`X1Error::Encode`] before anything is sent; [`X1Error::Timeout`];
    /// [`X1Error::Tls`] when a handshake fails or the NE refuses our certificate (its
    /// [`Refusal`] says why); [`X1Error::Status`] for an HTTP status other than 200 (with the
    /// NE's text); [`X1Error::Decode`] / [`X1Error::TooLarge`] for a bad response.
    pub async fn send(&self, request: &X1Request) -> Result<X1Response, X1Error> {
        let body = request.to_xml()?;
        let what = format!("X1 to {}", self.server_name);
        let connect = async {
            let tcp = TcpStream::connect(self.addr)
                .await
                .map_err(|source| X1Error::Io {
                    what: format!("{what}: connecting to {}", self.addr),
                    source,
                })?;
            Ok::<_, X1Error>(
                crate::tls::connect(&self.connector, &self.server_name, tcp, &what).await?,
            )
        };
        let tls = tokio::time::timeout(self.config.connect_timeout, connect)
            .await
            .map_err(|_| X1Error::Timeout {
                what: "X1 connect",
                after: self.config.connect_timeout,
            })??;
        tokio::time::timeout(self.config.request_timeout, self.exchange(tls, body, &what))
            .await
            .map_err(|_| X1Error::Timeout {
                what: "X1 request",
                after: self.config.request_timeout,
            })?
    }

    async fn exchange(
        &self,
        tls: tokio_rustls::client::TlsStream<TcpStream>,
        body: Vec<u8>,
        what: &str,
    ) -> Result<X1Response, X1Error> {
        let http = |source| X1Error::Http {
            what: what.to_owned(),
            source,
        };
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(http)?;
        let conn = tokio::spawn(conn);
        let request = Request::post(self.config.path.as_str())
            .header(header::HOST, self.server_name.as_str())
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| X1Error::Io {
                what: format!("{what}: building the HTTP request"),
                source: io::Error::other(e),
            })?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(e) => {
                drop(sender);
                // the connection's own error says why (e.g. the NE refused our certificate)
                let conn_error = match conn.await {
                    Ok(Err(conn_error)) => Some(conn_error),
                    _ => None,
                };
                return Err(self.refused(what, conn_error, e));
            }
        };
        let status = response.status();
        let limit = self.config.limits.max_len;
        let collected = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    X1Error::TooLarge {
                        len: limit.saturating_add(1),
                        limit,
                    }
                } else {
                    X1Error::Io {
                        what: format!("{what}: reading the response"),
                        source: io::Error::other(e),
                    }
                }
            })?
            .to_bytes();
        if status != StatusCode::OK {
            let shown = collected.get(..512).unwrap_or(&collected);
            return Err(X1Error::Status {
                status: status.as_u16(),
                body: String::from_utf8_lossy(shown).trim_end().to_owned(),
            });
        }
        X1Response::from_xml_with_limits(&collected, &self.config.limits)
    }

    /// Classifies a failed exchange: a TLS alert from the NE (it refused our certificate)
    /// becomes [`X1Error::Tls`] with a warn line, anything else [`X1Error::Http`].
    fn refused(
        &self,
        what: &str,
        conn_error: Option<hyper::Error>,
        error: hyper::Error,
    ) -> X1Error {
        let cause = conn_error.as_ref().unwrap_or(&error);
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(cause);
        let mut refusal = None;
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<io::Error>() {
                let reason = Refusal::from_io(io);
                if !matches!(reason, Refusal::Connection { .. }) {
                    refusal = Some((reason, io::Error::new(io.kind(), io.to_string())));
                    break;
                }
            }
            source = e.source();
        }
        match refusal {
            Some((reason, source)) => {
                tracing::warn!(
                    link = what,
                    peer = self.server_name.as_str(),
                    %reason,
                    "{what}: TLS handshake with {} failed: {reason}",
                    self.server_name
                );
                X1Error::Tls(TlsError::Handshake {
                    what: what.to_owned(),
                    peer: self.server_name.clone(),
                    reason,
                    source,
                })
            }
            None => X1Error::Http {
                what: what.to_owned(),
                source: error,
            },
        }
    }
}

/// Logs one warn line through the listener's malformed-request callsite, for the test log
/// capture.
#[cfg(test)]
pub(crate) fn log_probe() -> Response<Full<Bytes>> {
    malformed(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &X1Error::TooLarge { len: 0, limit: 0 },
    )
}
