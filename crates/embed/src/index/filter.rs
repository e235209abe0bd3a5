//! What searches filter on: each point's [`Metadata`] and the [`Filter`] a
//! search asks for, and the two again in a dense form ([`Facets`],
//! [`CompiledFilter`]) for checks against a million points (a scan, or each
//! step of a graph walk): small numbers side by side in one array, where
//! the metadata's strings would cost a cache miss per point.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What a search may filter on. For profiles `available` and `rate_minor`
/// (hourly rate) matter; for jobs `status` and the budget as `rate_minor`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub region: Option<String>,
    pub available: bool,
    pub rate_minor: Option<i64>,
    /// The rate's currency (ISO 4217).
    #[serde(default)]
    pub currency: Option<String>,
    pub status: String,
}

/// The most a point's rate may be, in one currency. A rate in another
/// currency, or none, passes: it cannot be compared (the matcher gives it a
/// neutral rate fit).
#[derive(Clone, Debug, PartialEq)]
pub struct RateCap {
    pub currency: String,
    /// In minor units (cents), fractions allowed.
    pub max_minor: f64,
}

impl RateCap {
    fn admits(&self, m: &Metadata) -> bool {
        match (m.rate_minor, &m.currency) {
            (Some(rate), Some(currency)) if *currency == self.currency => {
                fits(rate, self.max_minor)
            }
            _ => true,
        }
    }
}

/// Conditions a result must meet; `None` means any.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Any of these regions.
    pub regions: Option<Vec<String>>,
    /// With `regions`: points without a region pass too (a remote job
    /// suits a freelancer anywhere).
    pub or_no_region: bool,
    pub available: Option<bool>,
    pub rate_min: Option<i64>,
    pub rate_max: Option<i64>,
    /// A budget the rate must fit (see [`RateCap`]).
    pub rate_cap: Option<RateCap>,
    pub status: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.regions.is_none()
            && self.available.is_none()
            && self.rate_min.is_none()
            && self.rate_max.is_none()
            && self.rate_cap.is_none()
            && self.status.is_none()
    }

    pub fn matches(&self, m: &Metadata) -> bool {
        if let Some(regions) = &self.regions {
            let passes = match &m.region {
                Some(region) => regions.iter().any(|x| x.eq_ignore_ascii_case(region)),
                None => self.or_no_region,
            };
            if !passes {
                return false;
            }
        }
        if self.available.is_some_and(|a| a != m.available) {
            return false;
        }
        if !in_rate_range(m.rate_minor, self.rate_min, self.rate_max) {
            return false;
        }
        if self.rate_cap.as_ref().is_some_and(|cap| !cap.admits(m)) {
            return false;
        }
        self.status.as_ref().is_none_or(|s| *s == m.status)
    }
}

/// Whether a rate is within a range; with either bound set, a point without
/// a rate is not.
fn in_rate_range(rate: Option<i64>, min: Option<i64>, max: Option<i64>) -> bool {
    if min.is_none() && max.is_none() {
        return true;
    }
    rate.is_some_and(|rate| min.is_none_or(|min| rate >= min) && max.is_none_or(|max| rate <= max))
}

/// Whether a rate is within a cap (both in minor units).
fn fits(rate: i64, max_minor: f64) -> bool {
    rate as f64 <= max_minor
}

/// No value: a point without a region or currency.
const ABSENT: u32 = u32::MAX;
/// A string no point holds: a filter naming it matches nothing.
const UNKNOWN: u32 = u32::MAX - 1;

/// Interned strings of the metadata: regions by their ASCII lower case
/// (filters compare them ignoring case), statuses and currencies as they
/// are. Ids are never reused; the table only grows, by the distinct values
/// (a few hundred regions, a handful of statuses and currencies).
#[derive(Debug, Default)]
pub(crate) struct Symbols {
    ids: HashMap<String, u32>,
}

impl Symbols {
    fn intern(&mut self, value: &str) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = u32::try_from(self.ids.len()).unwrap_or(UNKNOWN).min(UNKNOWN - 1);
        self.ids.insert(value.to_owned(), id);
        id
    }

    fn lookup(&self, value: &str) -> u32 {
        self.ids.get(value).copied().unwrap_or(UNKNOWN)
    }
}

fn region_key(region: &str) -> String {
    region.to_ascii_lowercase()
}

/// A point's metadata as filters read it, and whether it is live.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facets {
    pub(crate) live: bool,
    available: bool,
    region: u32,
    status: u32,
    currency: u32,
    rate_minor: Option<i64>,
}

impl Facets {
    /// A point's facets, interning its strings.
    pub(crate) fn of(meta: &Metadata, live: bool, symbols: &mut Symbols) -> Self {
        Self {
            live,
            available: meta.available,
            region: meta.region.as_deref().map_or(ABSENT, |r| symbols.intern(&region_key(r))),
            status: symbols.intern(&meta.status),
            currency: meta.currency.as_deref().map_or(ABSENT, |c| symbols.intern(c)),
            rate_minor: meta.rate_minor,
        }
    }
}

/// A [`Filter`] in the terms of [`Facets`], compiled once per search: it
/// admits a live point exactly when the filter matches its metadata.
#[derive(Debug)]
pub(crate) struct CompiledFilter {
    regions: Option<Vec<u32>>,
    or_no_region: bool,
    available: Option<bool>,
    rate_min: Option<i64>,
    rate_max: Option<i64>,
    /// The cap's currency and most.
    rate_cap: Option<(u32, f64)>,
    status: Option<u32>,
}

impl CompiledFilter {
    pub(crate) fn new(filter: &Filter, symbols: &Symbols) -> Self {
        Self {
            regions: filter
                .regions
                .as_ref()
                .map(|regions| regions.iter().map(|r| symbols.lookup(&region_key(r))).collect()),
            or_no_region: filter.or_no_region,
            available: filter.available,
            rate_min: filter.rate_min,
            rate_max: filter.rate_max,
            rate_cap: filter
                .rate_cap
                .as_ref()
                .map(|cap| (symbols.lookup(&cap.currency), cap.max_minor)),
            status: filter.status.as_deref().map(|s| symbols.lookup(s)),
        }
    }

    /// Whether a point with these facets is live and passes.
    pub(crate) fn admits(&self, f: &Facets) -> bool {
        if !f.live {
            return false;
        }
        if let Some(regions) = &self.regions {
            let passes = match f.region {
                ABSENT => self.or_no_region,
                region => regions.contains(&region),
            };
            if !passes {
                return false;
            }
        }
        if self.available.is_some_and(|a| a != f.available) {
            return false;
        }
        if !in_rate_range(f.rate_minor, self.rate_min, self.rate_max) {
            return false;
        }
        if let (Some((currency, max)), Some(rate)) = (self.rate_cap, f.rate_minor) {
            // A rate in another currency, or none, cannot be compared: it passes.
            if f.currency == currency && !fits(rate, max) {
                return false;
            }
        }
        self.status.is_none_or(|s| s == f.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn pick(rng: &mut StdRng, from: &[&str]) -> Option<String> {
        let i = rng.gen_range(0..=from.len());
        from.get(i).map(|s| (*s).to_owned())
    }

    /// The compiled filter agrees with the metadata filter on every
    /// combination drawn: case variants, unknown values, no values, NaN caps.
    #[test]
    fn a_compiled_filter_admits_exactly_what_the_filter_matches() {
        let regions = ["EU", "eu", "Us", "apac", "mars"];
        let statuses = ["open", "Open", "closed", ""];
        let currencies = ["EUR", "USD", "eur"];
        let mut rng = StdRng::seed_from_u64(11);
        let mut symbols = Symbols::default();
        let metas: Vec<Metadata> = (0..300)
            .map(|_| Metadata {
                region: pick(&mut rng, &regions[..4]),
                available: rng.gen(),
                rate_minor: rng.gen::<bool>().then(|| rng.gen_range(0..10_000)),
                currency: pick(&mut rng, &currencies[..2]),
                status: pick(&mut rng, &statuses[..3]).unwrap_or_default(),
            })
            .collect();
        let facets: Vec<Facets> = metas.iter().map(|m| Facets::of(m, true, &mut symbols)).collect();
        let (mut checked, mut passed) = (0, 0);
        for _ in 0..2_000 {
            let filter = Filter {
                regions: rng.gen::<bool>().then(|| {
                    (0..rng.gen_range(0..3)).filter_map(|_| pick(&mut rng, &regions)).collect()
                }),
                or_no_region: rng.gen(),
                available: rng.gen::<bool>().then(|| rng.gen()),
                rate_min: rng.gen::<bool>().then(|| rng.gen_range(0..10_000)),
                rate_max: rng.gen::<bool>().then(|| rng.gen_range(0..10_000)),
                rate_cap: rng.gen::<bool>().then(|| RateCap {
                    currency: pick(&mut rng, &currencies).unwrap_or_default(),
                    max_minor: if rng.gen_ratio(1, 10) {
                        f64::NAN
                    } else {
                        rng.gen_range(0.0..10_000.0)
                    },
                }),
                status: pick(&mut rng, &statuses),
            };
            let compiled = CompiledFilter::new(&filter, &symbols);
            for (meta, facets) in metas.iter().zip(&facets) {
                let matches = filter.matches(meta);
                assert_eq!(compiled.admits(facets), matches, "{filter:?} on {meta:?}");
                checked += 1;
                passed += usize::from(matches);
            }
        }
        // Both outcomes were drawn often.
        assert!(passed > checked / 20 && passed < checked / 2, "{passed} of {checked}");
        let dead = Facets { live: false, ..facets[0] };
        assert!(!CompiledFilter::new(&Filter::default(), &symbols).admits(&dead));
    }
}
