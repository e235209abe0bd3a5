//! `fairgig`: read configuration, set up logging, run the command.

use clap::Parser;
use fairgig_server::{
    cli::{self, Cli},
    settings, telemetry,
};

fn main() -> anyhow::Result<()> {
    // Before any thread exists: the model runtime reads it when it loads.
    fairgig_embed::local::disable_runtime_telemetry();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = settings::load(cli.config.as_deref())?;
    telemetry::init(cli.log_format(&settings), &settings.log.level, std::io::stdout);
    let code = cli::run(cli, settings).await?;
    std::process::exit(code);
}
