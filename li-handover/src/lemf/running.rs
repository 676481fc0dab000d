//! A [`Receiver`] serving its HI2 and HI3 listeners ([`start`]) until a graceful stop that
//! returns the [`Summary`] ([`RunningReceiver::stop`]).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::{Interface, Receiver, Summary};

/// The receive buffer asked for the CCC socket: 4 MiB, a few seconds of a busy call mix.
const CCC_RECV_BUFFER: usize = 4 << 20;

/// How long [`RunningReceiver::stop`] waits for the connections to store what they hold.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

/// A listener of [`start`] that cannot be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for {interface} on {addr}: {source}")]
pub struct ListenError {
    /// The interface it was for (HI3 for the PacketCable call-content socket).
    pub interface: Interface,
    /// The address asked for.
    pub addr: SocketAddr,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// A [`Receiver`] serving its HI2 and HI3 listeners, from [`start`].
#[derive(Debug)]
pub struct RunningReceiver {
    /// The receiver (its summary, its statistics, its output paths).
    pub receiver: Receiver,
    /// Where HI2 is served.
    pub hi2_addr: SocketAddr,
    /// Where HI3 is served.
    pub hi3_addr: SocketAddr,
    /// Where PacketCable call content (CCC datagrams over UDP) is received, if asked for
    /// ([`start_with`]).
    pub ccc_addr: Option<SocketAddr>,
    /// The two [`Receiver::serve`] loops.
    tasks: JoinSet<()>,
    /// The [`Receiver::serve_ccc`] loop: not aborted, it ends when the receiver stops.
    ccc_task: Option<tokio::task::JoinHandle<()>>,
}

/// Binds the HI2 and HI3 listeners (port 0 picks one) and serves them with `receiver`
/// ([`Receiver::serve`]), through TLS when `tls` is given (the agency's certificate, and
/// with a client verifier the mediators' CA for mutual TLS).
///
/// ```
/// use li_handover::lemf::{Receiver, ReceiverConfig, start};
///
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # runtime.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let receiver = Receiver::new(ReceiverConfig::new(dir.path()))?;
/// let any = "127.0.0.1:0".parse()?;
/// let running = start(receiver, any, any, None).await?;
/// assert_ne!(running.hi2_addr, running.hi3_addr);
/// // ... a mediator delivers to running.hi2_addr and running.hi3_addr ...
/// let summary = running.stop().await;
/// assert!(summary.liids.is_empty());
/// assert_eq!(summary.records_path, dir.path().join("records.jsonl"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ListenError`]: a listener cannot be bound.
pub async fn start(
    receiver: Receiver,
    hi2: SocketAddr,
    hi3: SocketAddr,
    tls: Option<TlsAcceptor>,
) -> Result<RunningReceiver, ListenError> {
    start_with(receiver, hi2, hi3, None, tls).await
}

/// [`start`], and with `ccc` a UDP socket bound there (port 0 picks one) receiving
/// PacketCable call content ([`Receiver::serve_ccc`]; its address is
/// [`RunningReceiver::ccc_addr`]). The call data of PacketCable comes on HI2 as `CdcPdu`s.
///
/// ```
/// use li_handover::lemf::{Receiver, ReceiverConfig, start_with};
///
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # runtime.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let receiver = Receiver::new(ReceiverConfig::new(dir.path()))?;
/// let any = "127.0.0.1:0".parse()?;
/// let running = start_with(receiver, any, any, Some(any), None).await?;
/// let ccc = running.ccc_addr.ok_or("no CCC socket")?;
/// // ... a PacketCable mediator sends CdcPdus to running.hi2_addr, datagrams to ccc ...
/// let summary = running.stop().await;
/// assert_eq!(summary.ccc.datagrams, 0);
/// # let _ = ccc;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ListenError`]: a listener or the socket cannot be bound.
pub async fn start_with(
    receiver: Receiver,
    hi2: SocketAddr,
    hi3: SocketAddr,
    ccc: Option<SocketAddr>,
    tls: Option<TlsAcceptor>,
) -> Result<RunningReceiver, ListenError> {
    let mut tasks = JoinSet::new();
    let mut bound = [hi2, hi3];
    for ((interface, addr), local) in [(Interface::Hi2, hi2), (Interface::Hi3, hi3)]
        .into_iter()
        .zip(&mut bound)
    {
        let error = |source| ListenError {
            interface,
            addr,
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(error)?;
        *local = listener.local_addr().map_err(error)?;
        let receiver = receiver.clone();
        let tls = tls.clone();
        tasks.spawn(async move {
            if let Err(error) = receiver.serve(listener, tls, interface).await {
                tracing::error!(%interface, %error, "listener failed");
            }
        });
    }
    let [hi2_addr, hi3_addr] = bound;
    let mut ccc_task = None;
    let mut ccc_addr = None;
    if let Some(addr) = ccc {
        let error = |source| ListenError {
            interface: Interface::Hi3,
            addr,
            source,
        };
        let socket = UdpSocket::bind(addr).await.map_err(error)?;
        // Bursts of call content must not overflow the kernel's default buffer (about
        // 200 KiB): nothing would re-send what it drops. The kernel may cap the request
        // (net.core.rmem_max); what it granted is logged.
        let sock = socket2::SockRef::from(&socket);
        if let Err(error) = sock.set_recv_buffer_size(CCC_RECV_BUFFER) {
            tracing::warn!(%error, "cannot enlarge the CCC socket's receive buffer");
        }
        let granted = sock.recv_buffer_size().unwrap_or_default();
        tracing::info!(
            asked = CCC_RECV_BUFFER,
            granted,
            "CCC socket receive buffer"
        );
        ccc_addr = Some(socket.local_addr().map_err(error)?);
        let receiver = receiver.clone();
        let stop = receiver.stop_signal();
        ccc_task = Some(tokio::spawn(async move {
            if let Err(error) = receiver.ccc_loop(socket, stop).await {
                tracing::error!(%error, "CCC listener failed");
            }
        }));
    }
    tracing::info!(%hi2_addr, %hi3_addr, ?ccc_addr, tls = tls.is_some(), "LEMF receiver started");
    Ok(RunningReceiver {
        receiver,
        hi2_addr,
        hi3_addr,
        ccc_addr,
        tasks,
        ccc_task,
    })
}

impl RunningReceiver {
    /// What has been received so far.
    pub fn summary(&self) -> Summary {
        self.receiver.summary()
    }

    /// Waits until `cond` holds for what has been received ([`Receiver::wait_for`]).
    pub async fn wait_for(&self, cond: impl FnMut(&Summary) -> bool) -> Summary {
        self.receiver.wait_for(cond).await
    }

    /// Stops listening, lets every connection store what it has received
    /// ([`Receiver::shutdown`], for at most [`STOP_WAIT`]; an output error or the wait running
    /// out is logged) and returns the summary, which then agrees with the output files.
    pub async fn stop(mut self) -> Summary {
        self.tasks.shutdown().await;
        match tokio::time::timeout(STOP_WAIT, self.receiver.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "LEMF stopped with an output error"),
            Err(_) => tracing::error!(
                wait = ?STOP_WAIT,
                "LEMF stopped before every connection had stored what it received"
            ),
        }
        if let Some(task) = self.ccc_task.take() {
            // It has ended (the shutdown waited for it) unless the wait ran out.
            task.abort();
            let _ = task.await;
        }
        self.receiver.summary()
    }

    /// Waits until `shutdown` turns `true` (or its sender is dropped), then
    /// [stops](Self::stop).
    pub async fn run_until(self, mut shutdown: watch::Receiver<bool>) -> Summary {
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        self.stop().await
    }
}

#[cfg(test)]
mod tests;
