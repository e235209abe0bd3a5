//! What fairgig's two HTTP faces (the API in `fairgig-server` and the
//! portal in `fairgig-portal`) share: who is calling from where, and how a
//! person's data archive is sent.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::request::Parts,
};
use fairgig_core::audit::RequestContext;
use fairgig_engine::Engine;

/// Who is calling from where: IP, user agent and request id, for the audit log.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl ClientInfo {
    pub fn context(&self) -> RequestContext {
        RequestContext {
            ip: self.ip.map(|ip| ip.to_string()),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
        }
    }

    pub fn from_parts(parts: &Parts, trust_forwarded_for: bool) -> Self {
        let header_text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.chars().take(512).collect::<String>())
        };
        let forwarded = trust_forwarded_for
            .then(|| header_text("x-forwarded-for"))
            .flatten()
            .and_then(|list| list.split(',').next().and_then(|ip| ip.trim().parse().ok()));
        let peer =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        ClientInfo {
            ip: forwarded.or(peer),
            user_agent: header_text("user-agent"),
            request_id: header_text("x-request-id"),
        }
    }
}

impl<S> FromRequestParts<S> for ClientInfo
where
    Engine: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let trust_forwarded_for = Engine::from_ref(state).settings.server.trust_forwarded_for;
        Ok(ClientInfo::from_parts(parts, trust_forwarded_for))
    }
}

/// A person's data archive as a download, read from its temporary file as
/// it is sent, never cached.
pub fn archive_download(
    archive: fairgig_engine::personal_data::Archive,
) -> axum::response::Response {
    use axum::{body::Body, http::header, response::IntoResponse};
    let file = tokio::fs::File::from_std(archive.file);
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let headers = [
        (header::CONTENT_TYPE, "application/zip".to_owned()),
        (header::CONTENT_LENGTH, archive.bytes.to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", archive.filename)),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    (headers, body).into_response()
}
