//! `fairgig`: read configuration, set up logging, run the command.

use clap::Parser;
use fairgig_server::{
    cli::{self, Cli},
    settings, telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = settings::load(cli.config.as_deref())?;
    telemetry::init(cli.log_format(&settings), &settings.log.level, std::io::stdout);
    let code = cli::run(cli, settings).await?;
    std::process::exit(code);
}
