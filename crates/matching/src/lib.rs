//! The marketplace's own algorithms, as pure library code: nothing here
//! does I/O, so everything is tested directly against the published examples.
//!
//! - [`features`]: the facts about a job and a freelancer and the eight
//!   features in [0, 1] a pair is scored by.
//! - [`score`]: the linear ranker (v1: hand-set weights) and explanations
//!   (each feature's contribution; strengths and gaps in plain words).
//! - [`fairness`]: fair re-ranking (Geyik et al., KDD 2019; Zehlike et al.,
//!   CIKM 2017) and the metrics that audit a ranking (skew, NDKL, exposure).
//!
//! Not built yet (issue #5): marketplace objects, candidate generation,
//! feedback and learning, the model registry.

pub mod fairness;
pub mod features;
pub mod learning;
pub mod score;
