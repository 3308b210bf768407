//! The HTTP/1.1 server: a listener on 127.0.0.1, one task per connection, each request
//! read whole, handed to the engine, and answered (or the connection dropped). Every answer
//! carries the engine's `Date` header (the mock's clock), so hyper adds no real-time one.

use std::error::Error as StdError;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinSet};

use super::engine::{Reply, Shared};
use super::model::ReceivedRequest;

/// Binds 127.0.0.1 on `port` (0: a free one) and serves it from a task; aborting that task
/// stops the server and every connection (they live in its `JoinSet`).
pub(super) async fn spawn(
    shared: Arc<Shared>,
    port: u16,
) -> std::io::Result<(SocketAddr, AbortHandle)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(accept(listener, shared));
    Ok((addr, task.abort_handle()))
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Reap finished connections so the set holds only live ones.
                while connections.try_join_next().is_some() {}
                connections.spawn(serve(stream, shared.clone()));
            }
            // Out of file descriptors or the like: let connections finish, then retry.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| handle(shared.clone(), request));
    // An error here is a dropped connection (scripted or by the client): nothing to report.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mock drops the connection")
    }
}

impl StdError for DropConnection {}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| DropConnection)?.to_bytes();
    let received = ReceivedRequest {
        number: 0,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        status: 0,
    };
    let answer = match shared.respond(received, &body) {
        Reply::Answer(answer) => answer,
        Reply::Drop => return Err(DropConnection),
    };
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        headers.insert(name, value);
    }
    Ok(response)
}
