//! Bias detection. So far: the masculine/feminine-coded verdict of job ads
//! ([`gender_coding`]). The rule packs with spans and suggestions are not
//! built yet (see the README's status).

pub mod gender_coding;
