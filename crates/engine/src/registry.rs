//! The model registry as one set of use cases over its three kinds:
//! rankers (trained here, promoted through the gate, rolled back), bias rule
//! packs (registered by an admin, same gate) and embedders (chosen by
//! configuration and only recorded, so never promoted or rolled back here).

use std::{fmt, str::FromStr};

use fairgig_core::{audit::Actor, ValidationError};
use fairgig_matching::score::LinearModel;

use crate::{
    bias_rules::{self, Registered, BIAS_RULES},
    embedding_registry::EMBEDDER,
    training::{self, Promotion, RegistryEntry, RANKER},
    Caller, Engine, Error, Result,
};

/// What the bias-rules registry serves while no organisation pack is promoted.
pub const SHIPPED_PACKS: &str = "shipped packs";

/// A kind of versioned model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ModelKind {
    #[default]
    Ranker,
    BiasRules,
    Embedder,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ranker => RANKER,
            Self::BiasRules => BIAS_RULES,
            Self::Embedder => EMBEDDER,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            RANKER => Ok(Self::Ranker),
            BIAS_RULES => Ok(Self::BiasRules),
            EMBEDDER => Ok(Self::Embedder),
            _ => Err(ValidationError::new("kind", "one of ranker, bias_rules, embedder")),
        }
    }
}

/// One kind's versions, oldest first, and the version in use.
#[derive(Debug)]
pub struct Registry {
    pub kind: ModelKind,
    /// Rankers: the one matching ranks with (`linear-v3` while none is
    /// promoted); bias rules: the organisation pack ([`SHIPPED_PACKS`] while
    /// none is promoted); embedders: the configured model.
    pub serving: String,
    pub entries: Vec<RegistryEntry>,
}

/// What a rollback changed.
#[derive(Debug)]
pub struct RolledBack {
    /// The champion before, if there was one.
    pub from: Option<String>,
    /// The version in use now.
    pub serving: String,
}

/// The embedder follows configuration, not the registry's aliases.
fn embedder_is_configured() -> Error {
    Error::conflict(
        "the embedder is chosen by configuration ([embedding]); the registry records each one that served",
    )
}

/// Versions of one kind and the one serving (admins).
pub async fn list(engine: &Engine, caller: &Caller, kind: ModelKind) -> Result<Registry> {
    caller.require_admin()?;
    let serving = match kind {
        ModelKind::Ranker => training::champion_ranker(&engine.store).await?.0,
        ModelKind::BiasRules => engine.bias.version().unwrap_or_else(|| SHIPPED_PACKS.to_owned()),
        ModelKind::Embedder => engine.embeddings.model_id().to_owned(),
    };
    let entries = training::registry(&engine.store, kind.as_str()).await?;
    Ok(Registry { kind, serving, entries })
}

/// Runs the gate on the kind's challenger and promotes it if it passes (admins).
pub async fn promote(engine: &Engine, caller: &Caller, kind: ModelKind) -> Result<Promotion> {
    caller.require_admin()?;
    let actor = Actor::User(caller.user.id);
    match kind {
        ModelKind::Ranker => Ok(training::promote_challenger(&engine.store, actor).await?),
        ModelKind::BiasRules => {
            Ok(bias_rules::promote_pack(&engine.store, &engine.storage, &engine.bias, actor)
                .await?)
        }
        ModelKind::Embedder => Err(embedder_is_configured()),
    }
}

/// Restores the kind's previous champion (admins). For bias rules, rolling
/// back the first pack leaves the shipped packs alone in use.
pub async fn roll_back(engine: &Engine, caller: &Caller, kind: ModelKind) -> Result<RolledBack> {
    caller.require_admin()?;
    let actor = Actor::User(caller.user.id);
    match kind {
        ModelKind::Ranker => {
            let (from, to) = training::rollback_ranker(&engine.store, actor).await?;
            Ok(RolledBack { from, serving: to.unwrap_or_else(|| LinearModel::builtin().0.into()) })
        }
        ModelKind::BiasRules => {
            let (from, to) =
                bias_rules::rollback_pack(&engine.store, &engine.storage, &engine.bias, actor)
                    .await?;
            Ok(RolledBack { from, serving: to.unwrap_or_else(|| SHIPPED_PACKS.to_owned()) })
        }
        ModelKind::Embedder => Err(embedder_is_configured()),
    }
}

/// An organisation rule pack registered as challenger, with the gate's
/// verdict on it (promotion runs the same gate).
#[derive(Debug)]
pub struct RegisteredPack {
    pub pack: Registered,
    pub passes: bool,
    pub reasons: Vec<String>,
}

/// Validates, evaluates and registers a rule pack given as TOML (admins).
pub async fn register_bias_rules(
    engine: &Engine,
    caller: &Caller,
    pack: &str,
) -> Result<RegisteredPack> {
    caller.require_admin()?;
    let created_by = format!("user:{}", caller.user.id);
    let pack = bias_rules::register_pack(&engine.store, &engine.storage, pack, &created_by).await?;
    let (passes, reasons) = bias_rules::judge(&pack.evaluation);
    Ok(RegisteredPack { pack, passes, reasons })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_names_only() {
        for kind in [ModelKind::Ranker, ModelKind::BiasRules, ModelKind::Embedder] {
            assert_eq!(kind.as_str().parse::<ModelKind>().ok(), Some(kind));
        }
        assert!("Ranker".parse::<ModelKind>().is_err());
        assert!("".parse::<ModelKind>().is_err());
    }
}
