//! Dedicated listeners: hyper 1 with HTTP/1.1 keep-alive and HTTP/2 (auto-detected), optional TLS,
//! and a graceful stop that frees the port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::mock::Mock;
use crate::outcome::{Fault, MockOutcome};
use crate::transport::{ConnectionClosed, MockBody, outcome_to_http};

/// How long in-flight requests may finish after a stop before their connections are cut.
const GRACE: Duration = Duration::from_secs(1);
/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// A running listener; [`ListenerHandle::stop`] closes it.
pub(crate) struct ListenerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ListenerHandle {
    /// Stops accepting (the port is free when this returns), lets in-flight requests finish for a
    /// moment, then cuts the rest.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Tells the listener to stop without waiting: its task closes the port as soon as the runtime
    /// polls it, then winds connections down as [`ListenerHandle::stop`] does.
    pub fn signal_stop(self) {
        let _ = self.stop.send(true);
    }
}

/// Serves `mock` on `listener` until stopped.
pub(crate) fn spawn(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mock: Arc<Mock>,
) -> ListenerHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, remote)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let mock = mock.clone();
                    let tls = tls.clone();
                    let stopped = stopped.clone();
                    connections.spawn(async move {
                        match tls {
                            None => serve(TokioIo::new(stream), remote, mock, stopped).await,
                            Some(tls) => {
                                if let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE, tls.accept(stream)).await {
                                    serve(TokioIo::new(stream), remote, mock, stopped).await;
                                }
                            }
                        }
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        let _ = tokio::time::timeout(GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        connections.abort_all();
    });
    ListenerHandle { stop, task }
}

async fn serve<I>(
    io: TokioIo<I>,
    remote: SocketAddr,
    mock: Arc<Mock>,
    mut stopped: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let mock = mock.clone();
        async move {
            match mock.handle_http(request, "", Some(remote)).await {
                MockOutcome::Fault(Fault::Hang) => std::future::pending().await,
                // An error from the service makes hyper drop the connection without an answer.
                MockOutcome::Fault(Fault::CloseConnection) => Err(ConnectionClosed),
                outcome => {
                    Ok::<hyper::Response<MockBody>, ConnectionClosed>(outcome_to_http(outcome))
                }
            }
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
