//! Puts the client's address on every request, for the sign-in and sign-up limits (see
//! `domain::client`).
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use domain::client::ClientAddr;
use domain::client::TrustedProxies;
use std::net::SocketAddr;
use std::sync::Arc;

/// Puts the client's address on every request (`domain::client::ClientAddr`).
pub async fn layer(
    State(trusted): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip());
    let client = trusted
        .client(peer, req.headers())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    req.extensions_mut().insert(ClientAddr(client));
    next.run(req).await
}
