//! Logging: JSON lines to stdout by default, human-readable with `pretty`.
//! `RUST_LOG` overrides the configured level.

use fairgig_core::config::LogFormat;
use tracing_subscriber::{
    fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter,
};

/// Installs the global subscriber writing to `writer`. Tests pass a sink so
/// they stay quiet unless `TEST_LOG` is set.
pub fn init<W>(format: LogFormat, level: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let registry = tracing_subscriber::registry().with(filter);
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
}
