//! A safe request (GET, HEAD) answered 503 is tried once more.
//!
//! When PostgreSQL restarts or a connection drops mid-query, the pool hands
//! the next query a fresh connection, so a second try usually succeeds and
//! the client never sees the blip. Only safe methods are repeated: running
//! a write twice is not the server's call (a client retries it, with an
//! `Idempotency-Key` where the endpoint takes one). A second 503 goes out
//! with its `Retry-After`.

use std::{
    convert::Infallible,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::Body,
    extract::Request,
    http::{Method, StatusCode},
    response::Response,
};
use futures::future::BoxFuture;
use tower::{Layer, Service, ServiceExt};

/// The pause before the second try.
const PAUSE: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, Default)]
pub struct RetryUnavailableOnceLayer;

impl<S> Layer<S> for RetryUnavailableOnceLayer {
    type Service = RetryUnavailableOnce<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryUnavailableOnce { inner }
    }
}

#[derive(Clone, Debug)]
pub struct RetryUnavailableOnce<S> {
    inner: S,
}

impl<S> Service<Request> for RetryUnavailableOnce<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready serves this call; a clone
        // serves the retry.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return Box::pin(inner.call(request));
        }
        let (parts, body) = request.into_parts();
        let again = parts.clone();
        let retry = inner.clone();
        Box::pin(async move {
            let response = inner.call(Request::from_parts(parts, body)).await?;
            if response.status() != StatusCode::SERVICE_UNAVAILABLE {
                return Ok(response);
            }
            metrics::counter!("fairgig_http_retried_total").increment(1);
            tokio::time::sleep(PAUSE).await;
            retry.oneshot(Request::from_parts(again, Body::empty())).await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    use super::*;

    /// Answers 503 to the first call, 200 to every later one.
    fn blinking(
        calls: Arc<AtomicUsize>,
    ) -> RetryUnavailableOnce<tower::util::BoxCloneService<Request, Response, Infallible>> {
        let inner = tower::service_fn(move |_request: Request| {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            let status = if call == 0 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
            async move {
                Ok::<_, Infallible>(
                    Response::builder().status(status).body(Body::empty()).unwrap_or_default(),
                )
            }
        });
        RetryUnavailableOnceLayer.layer(tower::util::BoxCloneService::new(inner))
    }

    fn request(method: Method) -> Request {
        Request::builder()
            .method(method)
            .uri("/api/v1/submissions")
            .body(Body::empty())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_safe_request_is_tried_once_more_and_a_write_is_not() {
        let calls = Arc::new(AtomicUsize::new(0));
        let response = blinking(Arc::clone(&calls)).oneshot(request(Method::GET)).await;
        assert_eq!(response.map(|r| r.status()), Ok(StatusCode::OK));
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = Arc::new(AtomicUsize::new(0));
        let response = blinking(Arc::clone(&calls)).oneshot(request(Method::POST)).await;
        assert_eq!(response.map(|r| r.status()), Ok(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a write is the client's to retry");
    }
}
