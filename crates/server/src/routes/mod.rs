//! The HTTP API under `/api/v1`, plus health, metrics and docs at the root.
//!
//! Each resource module exposes `routes()` returning an `OpenApiRouter`, so
//! the OpenAPI document is collected from the handlers themselves and cannot
//! drift from what is served.

mod admin;
mod api_keys;
mod applications;
mod audit;
mod auth;
mod bias;
mod content;
mod dead_letters;
mod embeddings;
mod fairness;
mod feedback;
mod health;
mod jobs;
mod me;
mod models;
mod notifications;
mod profiles;
mod search;
mod submissions;

use axum::{http::Method, Router};
use fairgig_portal::PortalState;
use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    error::{ApiError, ErrorCode},
    state::AppState,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fairgig API",
        description = "Fair, AI-assisted freelance work. Errors always have the shape \
                       `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Register, sign in, refresh, sign out"),
        (name = "me", description = "The caller's own account and API keys"),
        (name = "admin", description = "User administration (admins)"),
        (name = "audit", description = "The hash-chained audit log (admins)"),
        (name = "submissions", description = "Requests and jobs, and their processing"),
        (name = "bias", description = "Exclusionary-language checks"),
        (name = "embeddings", description = "Sentence embeddings"),
        (name = "marketplace", description = "Freelancer profiles, jobs and matches"),
        (name = "notifications", description = "Inbox, preferences, webhook endpoints, delivery retries and template previews"),
        (name = "content", description = "The platform's own pages: published pages for anyone; versioned editing for admins and page editors"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// The documented routes (without state yet) and their OpenAPI 3.1 document.
fn documented_routes(max_request_bytes: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .merge(auth::routes())
        .merge(me::routes())
        .merge(api_keys::routes())
        .merge(admin::routes())
        .merge(audit::routes())
        .merge(dead_letters::routes())
        .merge(bias::routes())
        .merge(embeddings::routes())
        .merge(profiles::routes())
        .merge(jobs::routes())
        .merge(applications::routes())
        .merge(feedback::routes())
        .merge(fairness::routes())
        .merge(notifications::routes())
        .merge(models::routes())
        .merge(content::routes())
        .merge(submissions::routes(max_request_bytes));
    let (router, mut spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .merge(health::routes())
        .split_for_parts();
    spec.openapi = utoipa::openapi::OpenApiVersion::Version31;
    (router, document_shared_errors(spec))
}

/// `/healthz`, `/readyz` and `/metrics` alone, for a process that serves
/// no API (`fairgig worker --bind`).
pub fn probes() -> OpenApiRouter<AppState> {
    health::routes()
}

/// Whether this node can serve, as `/readyz` answers it.
pub async fn readiness(state: &AppState) -> health::Readiness {
    health::readiness(state).await
}

/// Documents, on every operation, the error answers that the shared layers
/// and extractors give whatever the handler (unless the handler documents
/// its own): 429 (rate limits), 408 (timeout) and 500 on all; 401 and 403
/// where a credential is asked for; 400, 413, 415 and 422 where a body is
/// read; 400 and 422 where path or query parameters are; 404 where a path
/// names a resource. Generated clients and fuzzers then meet no status the
/// document does not name.
fn document_shared_errors(mut spec: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{content::ContentBuilder, response::ResponseBuilder, Ref};

    let answer = |description: &str| {
        let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        ResponseBuilder::new().description(description).content("application/json", body).build()
    };
    for (path, item) in spec.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            let secured = operation.security.as_ref().is_some_and(|list| !list.is_empty());
            let body = operation.request_body.is_some();
            let parameters = operation.parameters.as_ref().is_some_and(|list| !list.is_empty());
            let mut shared = vec![
                ("429", "Too many requests; `Retry-After` says when to retry"),
                ("408", "The request took too long"),
                ("500", "An unexpected error, logged with the id in its message"),
            ];
            if secured {
                shared.push(("401", "Not signed in, or the credential is invalid or revoked"));
                shared.push(("403", "The credential lacks the scope or role"));
            }
            if body {
                shared.push(("400", "Malformed body"));
                shared.push(("413", "The body is too large"));
                shared.push(("415", "Unsupported content type"));
                shared.push(("422", "A field is invalid"));
            }
            if parameters || path.contains('{') {
                shared.push(("400", "Malformed path or query"));
                shared.push(("422", "A parameter is invalid"));
            }
            if path.contains('{') {
                shared.push(("404", "No such resource (or not the caller's)"));
            }
            for (status, description) in shared {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| answer(description).into());
            }
        }
    }
    spec
}

/// Every route with its state: the API, `/docs` and JSON 404/405 fallbacks.
pub fn router(state: AppState) -> Router {
    let (routes, spec) = documented_routes(state.engine.settings.submissions.max_request_bytes);
    let portal = fairgig_portal::router(PortalState { engine: state.engine.clone() });
    routes
        .merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", spec))
        .with_state(state)
        .merge(portal)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The OpenAPI document alone (for `fairgig openapi` and tests).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let defaults = fairgig_core::config::SubmissionSettings::default();
    documented_routes(defaults.max_request_bytes).1
}

/// JSON under `/api`, a page elsewhere.
async fn not_found(request: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    if !fairgig_portal::owns(path) {
        return ApiError::new(ErrorCode::NotFound, "no such endpoint").into_response();
    }
    let accept = request.headers().get(axum::http::header::ACCEPT_LANGUAGE);
    let locale =
        fairgig_portal::i18n::Locale::negotiate(None, accept.and_then(|v| v.to_str().ok()));
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    fairgig_portal::page::PortalError {
        status: axum::http::StatusCode::NOT_FOUND,
        locale,
        request_id,
    }
    .into_response()
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("{method} is not allowed here"))
}
