//! The marketplace's own algorithms, as pure library code: nothing here
//! does I/O, so everything is tested directly against the published examples.
//!
//! - [`fairness`]: fair re-ranking (Geyik et al., KDD 2019; Zehlike et al.,
//!   CIKM 2017) and the metrics that audit a ranking (skew, NDKL, exposure).
//!
//! Not built yet (issue #5): marketplace objects, candidate generation,
//! features and scoring, feedback and learning, the model registry.

pub mod fairness;
