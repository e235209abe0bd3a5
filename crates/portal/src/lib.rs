//! fairgig's web portal: server-rendered pages at `/` for clients, freelancers
//! and admins, on the same engine use cases as the API (never calling the
//! API). Pages read without JavaScript; htmx (vendored) adds live progress.
//!
//! - [`admin`]: moderation, the fairness dashboard, the ranker registry.
//! - [`operations`]: users, the audit log, dead letters, the notification
//!   log and template previews.
//! - [`evidence`]: flagged language against who applies; reviewers' ratings
//!   by declared group.
//! - [`chart`]: server-rendered SVG charts.
//! - [`session`]: cookies → [`session::Visitor`]; CSRF tokens.
//! - [`i18n`]: English and German messages.
//! - [`page`]: the page frame, rendering, the error page.
//! - [`assets`]: CSS and scripts under content-hashed URLs.
//! - [`home`]: the landing page, the open jobs board, the language switch.
//! - [`accounts`]: sign up, sign in, sign out.
//! - [`recovery`]: password reset and email verification by emailed link.
//! - [`dashboard`]: a client's requests and jobs; a freelancer's jobs for them.
//! - [`live`]: what happens while the dashboard is open, as it happens.
//! - [`inbox`]: the notifications inbox and delivery log; changing the password.
//! - [`settings`]: notification preferences, webhooks and API keys.
//! - [`your_data`]: downloading one's data, erasing one's account.
//! - [`requests`]: a new request, its live progress and its results.
//! - [`freelancers`]: the profile editor.
//! - [`directory`]: clients find freelancers; a freelancer's public page
//!   with averaged sub-ratings and reviews marked helpful.
//! - [`jobs`]: writing a job with the language check as you type; a job's
//!   page with findings, publishing, applicants, hiring, reviews, matches.

pub mod accounts;
pub mod admin;
pub mod assets;
pub mod chart;
pub mod content;
pub mod dashboard;
pub mod directory;
pub mod evidence;
pub mod freelancers;
pub mod home;
pub mod i18n;
pub mod inbox;
pub mod jobs;
pub mod live;
pub mod operations;
pub mod page;
pub mod page_editor;
mod prototype;
pub mod recovery;
pub mod requests;
pub mod session;
pub mod settings;
pub mod your_data;

use axum::{
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
    Router,
};
use fairgig_engine::Engine;

/// What every page handler shares: the engine's services (the portal calls
/// the same use cases as the API, never the API itself).
#[derive(Clone, Debug)]
pub struct PortalState {
    pub engine: Engine,
}

impl axum::extract::FromRef<PortalState> for Engine {
    fn from_ref(state: &PortalState) -> Engine {
        state.engine.clone()
    }
}

/// Every portal route, behind the session middleware.
pub fn router(state: PortalState) -> Router {
    let max_request_bytes = state.engine.settings.submissions.max_request_bytes;
    Router::new()
        .route("/", get(home::landing))
        .route("/jobs", get(home::board))
        .route("/prototypes/{token}", get(prototype::serve))
        .route("/p/{slug}", get(content::in_visitor_language))
        .route("/{locale}/p/{slug}", get(content::in_locale))
        .route("/freelancers", get(directory::directory))
        .route("/freelancers/{id}", get(directory::freelancer))
        .route("/reviews/{id}/helpful", post(directory::vote))
        .route("/language", post(home::set_language))
        .route("/signup", get(accounts::signup_form).post(accounts::signup))
        .route("/signin", get(accounts::signin_form).post(accounts::signin))
        .route("/signout", post(accounts::signout))
        .route("/password/forgot", get(recovery::forgot_form).post(recovery::forgot))
        .route("/password/reset", get(recovery::reset_form).post(recovery::reset))
        .route("/verify-email", get(recovery::verify_form).post(recovery::verify))
        .route("/verify-email/resend", post(recovery::resend))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/live", get(live::events))
        .route("/profile", get(freelancers::profile_form).post(freelancers::save_profile))
        .route("/profile/preview", post(freelancers::preview))
        .route("/profile/skills", get(freelancers::skill_suggestions))
        .route("/jobs/new", get(jobs::new_form).post(jobs::create))
        .route("/jobs/preview", post(jobs::preview))
        .route("/jobs/{id}", get(jobs::show))
        .route("/jobs/{id}/edit", get(jobs::edit_form).post(jobs::edit))
        .route("/jobs/{id}/apply", post(jobs::apply))
        .route("/jobs/{id}/status", post(jobs::set_status))
        .route("/jobs/{id}/delete", post(jobs::delete))
        .route("/jobs/{id}/review", post(jobs::review))
        .route("/applications/{id}/decide", post(jobs::decide))
        .route("/inbox", get(inbox::inbox))
        .route("/settings/password", get(inbox::password_form).post(inbox::change_password))
        .route("/settings", get(settings::show))
        .route("/settings/data", get(your_data::show))
        .route("/settings/data/export", get(your_data::export))
        .route("/settings/data/erase", post(your_data::erase))
        .route("/settings/notifications", post(settings::save_preferences))
        .route("/settings/keys", post(settings::create_key))
        .route("/settings/keys/{id}/revoke", post(settings::revoke_key))
        .route("/settings/webhooks", post(settings::create_webhook))
        .route("/settings/webhooks/{id}/rotate", post(settings::rotate_webhook))
        .route("/settings/webhooks/{id}/delete", post(settings::delete_webhook))
        .route("/admin", get(admin::show))
        .route("/admin/reviews/{id}/{verdict}", post(admin::moderate))
        .route("/admin/rankers/{action}", post(admin::ranker))
        .route("/admin/evidence", get(evidence::show))
        .route("/admin/users", get(operations::users))
        .route("/admin/users/{id}/role", post(operations::set_role))
        .route("/admin/users/{id}/disable", post(operations::disable))
        .route("/admin/audit", get(operations::audit))
        .route("/admin/dead-letters", get(operations::dead_letters))
        .route("/admin/dead-letters/{id}/retry", post(operations::retry_dead_letter))
        .route("/admin/notifications", get(operations::notification_log))
        .route("/admin/notifications/{id}/resend", post(operations::resend))
        .route("/admin/templates", get(operations::templates))
        .route("/admin/pages", get(page_editor::list))
        .route("/admin/pages/new", get(page_editor::new_form).post(page_editor::create))
        .route("/admin/pages/preview", post(page_editor::preview))
        .route("/admin/pages/{id}", get(page_editor::edit_form).post(page_editor::save))
        .route("/admin/pages/{id}/diff", get(page_editor::diff))
        .route(
            "/admin/pages/{id}/media",
            post(page_editor::upload).layer(DefaultBodyLimit::max(
                fairgig_engine::pages::media::MAX_MEDIA_BYTES + 64 * 1024,
            )),
        )
        .route("/media/{name}", get(page_editor::serve_media))
        .route("/admin/pages/{id}/versions/{number}/restore", post(page_editor::restore))
        .route(
            "/requests/new",
            get(requests::new_form)
                .post(requests::create)
                .layer(DefaultBodyLimit::max(max_request_bytes)),
        )
        .route("/requests/{id}", get(requests::show))
        .route("/requests/{id}/events", get(requests::events))
        .route("/requests/{id}/results", get(requests::results))
        .route("/requests/{id}/retry", post(requests::retry))
        .layer(middleware::from_fn_with_state(state.clone(), session::middleware))
        .route("/assets/{file}", get(assets::serve))
        .with_state(state)
}

/// Whether a path belongs to the portal (its 404s are pages, not JSON):
/// everything but the API, its docs and the operations endpoints.
pub fn owns(path: &str) -> bool {
    let machine = ["/api", "/docs", "/healthz", "/readyz", "/metrics"];
    !machine.iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}
