//! What one request for a job's matches asks for, as typed by the caller:
//! how many, hard filters, and overrides of the deployment's fairness
//! policy. Parsed and checked here so the API and the portal apply the same
//! rules, including who may steer a ranking by a self-declared attribute.

use std::collections::BTreeMap;

use fairgig_core::{marketplace::FairAlgorithm, ValidationError};

use crate::{
    matching::{Attribute, FairnessPolicy, PolicyError, ProfileFilters},
    Error, Result,
};

/// Matches shown when the caller does not say.
pub const DEFAULT_LIMIT: usize = 10;

/// A request for a job's matches; every field optional.
#[derive(Clone, Debug, Default)]
pub struct MatchRequest {
    /// 1–100, default [`DEFAULT_LIMIT`].
    pub limit: Option<usize>,
    pub fairness: Option<FairAlgorithm>,
    /// `newcomer` or a self-declared attribute such as `gender`.
    pub attribute: Option<String>,
    /// `group:share` pairs separated by commas.
    pub target: Option<String>,
    /// FA*IR's protected group under a self-declared attribute.
    pub protected: Option<String>,
    pub amortise: Option<bool>,
    pub region: Option<String>,
    pub min_years: Option<f64>,
    pub min_rating: Option<f64>,
    /// Leave out freelancers asking more than the budget allows (by default
    /// the budget is scored, not a filter).
    pub within_budget: Option<bool>,
}

impl MatchRequest {
    /// How many matches to show, checked.
    pub fn limit(&self) -> Result<usize, ValidationError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=100).contains(&limit) {
            return Err(ValidationError::new("limit", "must be between 1 and 100"));
        }
        Ok(limit)
    }

    /// This request's own hard filters, validated.
    pub fn filters(&self) -> Result<ProfileFilters, ValidationError> {
        let region = match self.region.as_deref().map(str::trim) {
            Some(region) if region.is_empty() || region.chars().count() > 64 => {
                return Err(ValidationError::new("region", "1 to 64 characters"));
            }
            region => region.map(str::to_owned),
        };
        if self.min_years.is_some_and(|years| !(0.0..=80.0).contains(&years)) {
            return Err(ValidationError::new("min_years", "must be between 0 and 80"));
        }
        if self.min_rating.is_some_and(|rating| !(1.0..=5.0).contains(&rating)) {
            return Err(ValidationError::new("min_rating", "must be between 1 and 5"));
        }
        Ok(ProfileFilters {
            region,
            min_years: self.min_years,
            min_rating: self.min_rating,
            within_budget: self.within_budget.unwrap_or(false),
        })
    }

    /// The deployment's policy with this request's overrides.
    ///
    /// Who declared what stays hidden from clients only if they cannot steer
    /// a ranking by it: with `target=woman:1` the top of the list would name
    /// the women. So a ranking by a self-declared attribute takes its
    /// attribute, target and protected group from the deployment unless an
    /// admin asks (forbidden otherwise).
    pub fn policy(&self, deployment: &FairnessPolicy, admin: bool) -> Result<FairnessPolicy> {
        let invalid = |err: PolicyError| {
            let field = if err.field == "targets" { "target" } else { err.field };
            ValidationError::new(field, err.message)
        };
        let mut policy = deployment.clone();
        if let Some(algorithm) = self.fairness {
            policy.algorithm = algorithm;
        }
        if let Some(attribute) = &self.attribute {
            let attribute = Attribute::parse(attribute).map_err(invalid)?;
            if attribute != policy.attribute {
                // The deployment's shares name the deployment's groups.
                policy.targets.clear();
                policy.protected = None;
                policy.attribute = attribute;
            }
        }
        if let Some(target) = &self.target {
            policy.targets = parse_target(target)?;
        }
        if let Some(protected) = &self.protected {
            policy.protected = Some(protected.trim().to_owned());
        }
        if let Some(amortise) = self.amortise {
            policy.amortise = amortise;
        }
        policy.validate().map_err(invalid)?;
        let steered = self.attribute.is_some() || self.target.is_some() || self.protected.is_some();
        if steered && !admin && matches!(policy.attribute, Attribute::Declared(_)) {
            return Err(Error::new(
                crate::ErrorKind::Forbidden,
                "only admins may set the attribute, target or protected group of a ranking by a \
                 self-declared attribute; the deployment's fairness policy applies",
            ));
        }
        Ok(policy)
    }
}

/// `group:share,group:share` into shares by group.
fn parse_target(text: &str) -> Result<BTreeMap<String, f64>, ValidationError> {
    let invalid = || {
        ValidationError::new("target", "`group:share` pairs separated by commas, shares in [0, 1]")
    };
    text.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (group, share) = pair.rsplit_once(':').ok_or_else(invalid)?;
            let share: f64 = share.trim().parse().map_err(|_| invalid())?;
            if group.trim().is_empty() || !share.is_finite() {
                return Err(invalid());
            }
            Ok((group.trim().to_owned(), share))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> FairnessPolicy {
        FairnessPolicy::from_settings(&fairgig_core::config::FairnessSettings::default())
            .expect("the default policy is valid")
    }

    #[test]
    fn targets_parse_as_group_share_pairs() {
        let shares = parse_target("newcomer:0.3, veteran : 0.2,").expect("valid");
        assert_eq!(shares.get("newcomer"), Some(&0.3));
        assert_eq!(shares.get("veteran"), Some(&0.2));
        for bad in ["newcomer", "newcomer:x", ":0.3", "a:NaN"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_and_filters_are_checked() {
        assert_eq!(MatchRequest::default().limit().ok(), Some(DEFAULT_LIMIT));
        assert!(MatchRequest { limit: Some(0), ..Default::default() }.limit().is_err());
        assert!(MatchRequest { limit: Some(101), ..Default::default() }.limit().is_err());
        let blank = MatchRequest { region: Some("  ".into()), ..Default::default() };
        assert_eq!(blank.filters().map_err(|err| err.field).err(), Some("region"));
        let old = MatchRequest { min_years: Some(81.0), ..Default::default() };
        assert!(old.filters().is_err());
    }

    #[test]
    fn only_admins_steer_a_ranking_by_a_self_declared_attribute() {
        let steer = MatchRequest {
            attribute: Some("gender".into()),
            target: Some("woman:0.5".into()),
            ..Default::default()
        };
        assert!(matches!(
            steer.policy(&deployment(), false),
            Err(Error::Refused { kind: crate::ErrorKind::Forbidden, .. })
        ));
        let policy = steer.policy(&deployment(), true).expect("an admin may");
        assert_eq!(policy.targets.get("woman"), Some(&0.5));
        let newcomers = MatchRequest { target: Some("newcomer:0.3".into()), ..Default::default() };
        assert!(newcomers.policy(&deployment(), false).is_ok(), "newcomer shares are anyone's");
    }
}
