//! The state every handler shares: the engine's services and the parts
//! only HTTP needs.

use fairgig_core::config::Settings;
use fairgig_engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;

#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases' services; handlers call the engine with it.
    pub engine: Engine,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}

/// Extractors shared with the portal (`ClientInfo`) read the engine alone.
impl axum::extract::FromRef<AppState> for Engine {
    fn from_ref(state: &AppState) -> Engine {
        state.engine.clone()
    }
}

impl AppState {
    /// Connects to the database (without migrating) and builds every service.
    pub async fn build(settings: Settings) -> anyhow::Result<AppState> {
        Ok(AppState {
            engine: Engine::build(settings).await?,
            metrics: crate::metrics::prometheus_handle(),
        })
    }
}
