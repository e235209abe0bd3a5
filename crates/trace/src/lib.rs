//! One trace from a request to its last step: the W3C trace context
//! (`traceparent`) taken from the current span where work is queued, and
//! continued where it is taken up.
//!
//! Why a crate of its own: the queue (tasks, notifications) is written by
//! the store and taken up by the pipeline's worker and the notification
//! dispatcher, none of which should know how traces are exported. They
//! only move a `traceparent` string; the server decides whether spans go
//! anywhere (`tracing.otlp_endpoint`). With no OpenTelemetry layer
//! installed every function here is a cheap no-op and [`current`] is `None`.

use std::collections::HashMap;

use opentelemetry::{
    propagation::TextMapPropagator,
    trace::{TraceContextExt, TraceId},
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header name, in HTTP and in AMQP message headers alike.
pub const TRACEPARENT: &str = "traceparent";

/// The span field logs carry the trace id in; spans that continue a trace
/// declare it (`trace_id = tracing::field::Empty`).
pub const TRACE_ID_FIELD: &str = "trace_id";

/// The `traceparent` of the current span, to store with queued work;
/// `None` when tracing is off.
pub fn current() -> Option<String> {
    of(&tracing::Span::current())
}

/// The `traceparent` of `span`; `None` when it belongs to no trace.
pub fn of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// Makes `span` a child of `traceparent` (a request's header, a task's
/// stored context) and records its trace id in [`TRACE_ID_FIELD`] for the
/// logs. A missing or malformed `traceparent` starts a new trace: a
/// client's bad header must not break its request.
pub fn continue_from(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(parent) = traceparent.map(str::trim).filter(|p| !p.is_empty()) {
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), parent.to_owned())]);
        let context = TraceContextPropagator::new().extract(&carrier);
        if context.span().span_context().is_valid() {
            // Refused only once the span has ended, which it has not here.
            let _ = span.set_parent(context);
        }
    }
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != TraceId::INVALID {
        span.record(TRACE_ID_FIELD, tracing::field::display(trace_id));
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn traced<T>(work: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, work)
    }

    fn trace_id(traceparent: &str) -> &str {
        traceparent.split('-').nth(1).unwrap_or_default()
    }

    #[test]
    fn without_a_tracing_layer_there_is_no_context() {
        let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
        let _entered = span.enter();
        assert_eq!(current(), None);
        continue_from(&span, Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        assert_eq!(current(), None);
    }

    #[test]
    fn a_queued_context_continues_the_same_trace_in_a_child() {
        traced(|| {
            let request = tracing::info_span!("request", trace_id = tracing::field::Empty);
            continue_from(&request, None);
            let queued = request.in_scope(current).expect("a context inside a span");
            assert!(queued.starts_with("00-") && queued.ends_with("-01"), "{queued}");

            let step = tracing::info_span!("step", trace_id = tracing::field::Empty);
            continue_from(&step, Some(&queued));
            let inside = step.in_scope(current).expect("a context");
            assert_eq!(trace_id(&inside), trace_id(&queued), "one trace");
            assert_ne!(inside, queued, "a span of its own");
        });
    }

    #[test]
    fn a_client_header_is_continued_and_garbage_starts_a_new_trace() {
        traced(|| {
            let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
            let continued = tracing::info_span!("request", trace_id = tracing::field::Empty);
            continue_from(&continued, Some(header));
            let inside = continued.in_scope(current).expect("a context");
            assert_eq!(trace_id(&inside), "0af7651916cd43dd8448eb211c80319c");

            for garbage in [
                "",
                "00-zz-yy-01",
                "not a header",
                "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            ] {
                let fresh = tracing::info_span!("request", trace_id = tracing::field::Empty);
                continue_from(&fresh, Some(garbage));
                let inside = fresh.in_scope(current).expect("a new trace");
                assert_ne!(trace_id(&inside), "00000000000000000000000000000000", "{garbage}");
                assert_ne!(trace_id(&inside), trace_id(header), "{garbage}");
            }
        });
    }
}
