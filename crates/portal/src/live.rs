//! What happens while the dashboard is open (`GET /live`): the signed-in
//! person's live events (a client's new applications, a freelancer's newly
//! opened fitting jobs, from `engine::live`, the stream `GET /me/events`
//! serves) as list items the dashboard's htmx SSE extension puts on top of
//! its *New while you are here* list. Without JavaScript nothing listens and
//! the dashboard is complete as rendered.

use std::convert::Infallible;

use askama::Template;
use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use fairgig_engine::live::{self, LiveEvent};
use futures::{Stream, StreamExt};

use super::{
    i18n::Messages,
    page::{require_sign_in, PortalError},
    session::Visitor,
};
use crate::PortalState;

/// The SSE event name the dashboard's list swaps in.
const NEWS: &str = "news";

#[derive(Template)]
#[template(path = "portal/live_item.html")]
struct LiveItem {
    href: String,
    text: String,
}

impl LiveItem {
    fn of(t: &Messages, event: &LiveEvent) -> Self {
        match event {
            LiveEvent::Application { job, job_title, .. } => LiveItem {
                href: format!("/jobs/{job}"),
                text: t.msg_with("live-application", "title", job_title),
            },
            LiveEvent::Job { job, title, .. } => LiveItem {
                href: format!("/jobs/{job}"),
                text: t.msg_with("live-job", "title", title),
            },
        }
    }
}

/// The caller's live events as HTML list items (event `news`).
pub async fn events(
    State(state): State<PortalState>,
    visitor: Visitor,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let t = visitor.messages();
    let stream = live::watch(state.engine.clone(), caller)
        .map_err(|err| PortalError::from_engine(&visitor, err))?
        .map(move |event| {
            let html = LiveItem::of(&t, &event).render().unwrap_or_default();
            Ok(Event::default().event(NEWS).data(html))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
