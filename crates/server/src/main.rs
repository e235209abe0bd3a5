//! `fairgig`: read configuration, set up logging, run the command.

use clap::Parser;
use fairgig_server::{
    cli::{self, Cli},
    settings, telemetry,
};

fn main() -> anyhow::Result<()> {
    // Before any thread exists: the model runtime reads it when it loads.
    fairgig_embed::local::disable_runtime_telemetry();
    let cli = Cli::parse();
    let settings = settings::load(cli.config.as_deref())?;
    // Outside the runtime: the span exporter's HTTP client blocks.
    let telemetry = telemetry::init(
        cli.log_format(&settings),
        &settings.log.level,
        &settings.tracing,
        std::io::stdout,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let code = runtime.block_on(cli::run(cli, settings));
    // Not waiting for blocking work still running (a model call): exiting
    // ends it anyway, as before.
    runtime.shutdown_background();
    telemetry.shutdown();
    std::process::exit(code?);
}
