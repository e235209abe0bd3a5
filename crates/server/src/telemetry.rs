//! Logging and traces. Logs: JSON lines to stdout by default, human-readable
//! with `pretty`; `RUST_LOG` overrides the configured level. Traces: spans
//! over OTLP/HTTP when `tracing.otlp_endpoint` is set, nowhere otherwise
//! (no traffic the operator did not configure).

use anyhow::Context as _;
use fairgig_core::config::{LogFormat, TracingSettings};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    trace::{Sampler, SdkTracerProvider},
    Resource,
};
use tracing_subscriber::{
    fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter,
};

/// What must outlive the program's work: the span exporter, flushed by
/// [`Telemetry::shutdown`] before the process exits.
#[must_use = "shut it down before exiting, or the last spans are lost"]
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered. Call it outside the async runtime:
    /// the exporter's HTTP client blocks.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(err) = provider.shutdown() {
                eprintln!("fairgig: flushing traces failed: {err}");
            }
        }
    }
}

/// Installs the global subscriber writing logs to `writer`, with spans
/// exported when `tracing` names an endpoint. Tests pass a sink so they
/// stay quiet unless `TEST_LOG` is set. Call it outside the async runtime
/// (see [`Telemetry::shutdown`]).
pub fn init<W>(
    format: LogFormat,
    level: &str,
    tracing: &TracingSettings,
    writer: W,
) -> anyhow::Result<Telemetry>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let provider =
        tracing.otlp_endpoint.as_deref().map(|url| exporter(url, tracing)).transpose()?;
    let traces = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("fairgig")));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let registry = tracing_subscriber::registry().with(filter).with(traces);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Pretty => {
            registry.with(tracing_subscriber::fmt::layer().with_writer(writer)).try_init()
        }
    };
    // A second init (tests) keeps the first subscriber; that is fine.
    drop(result);
    Ok(Telemetry { provider })
}

/// A batching OTLP/HTTP exporter to `endpoint`'s `/v1/traces`.
fn exporter(endpoint: &str, settings: &TracingSettings) -> anyhow::Result<SdkTracerProvider> {
    let base = url::Url::parse(endpoint)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .with_context(|| {
            format!("tracing.otlp_endpoint must be an http(s) URL, not {endpoint:?}")
        })?;
    anyhow::ensure!(
        (0.0..=1.0).contains(&settings.sample_ratio),
        "tracing.sample_ratio must be between 0 and 1, not {}",
        settings.sample_ratio
    );
    let traces = format!("{}/v1/traces", base.as_str().trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(traces)
        .build()
        .context("the OTLP exporter")?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sample_ratio,
        ))))
        .with_resource(Resource::builder().with_service_name(settings.service_name.clone()).build())
        .build())
}
