//! Protected grounds: what a finding's category is about, in the terms of
//! the law (EU equal-treatment directives 2000/43/EC, 2000/78/EC,
//! 2006/54/EC; the EEOC's list) and of two well-documented non-legal
//! filters (elitist schooling, always-on culture).
//!
//! The packs name their categories in their own words ("ageist", "age";
//! "ablist", "ableist", "disability"); a ground gathers them, so the
//! labelled evaluation ([`super::eval`]) and an auditor can ask "what does
//! the checker find about religion?" across packs. Categories about tone
//! or jargon (idioms, culture fit, realism, condescension, profanity) and
//! gender-*coded* words (a soft signal, reported by the Gender Decoder
//! verdict, not a requirement about sex) belong to no ground.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ground {
    Age,
    Disability,
    Religion,
    Race,
    NationalOrigin,
    Sex,
    Pregnancy,
    Family,
    SexualOrientation,
    GenderIdentity,
    Appearance,
    EducationElitism,
    AlwaysOn,
}

impl Ground {
    pub const ALL: [Ground; 13] = [
        Ground::Age,
        Ground::Disability,
        Ground::Religion,
        Ground::Race,
        Ground::NationalOrigin,
        Ground::Sex,
        Ground::Pregnancy,
        Ground::Family,
        Ground::SexualOrientation,
        Ground::GenderIdentity,
        Ground::Appearance,
        Ground::EducationElitism,
        Ground::AlwaysOn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ground::Age => "age",
            Ground::Disability => "disability",
            Ground::Religion => "religion",
            Ground::Race => "race",
            Ground::NationalOrigin => "national-origin",
            Ground::Sex => "sex",
            Ground::Pregnancy => "pregnancy",
            Ground::Family => "family",
            Ground::SexualOrientation => "sexual-orientation",
            Ground::GenderIdentity => "gender-identity",
            Ground::Appearance => "appearance",
            Ground::EducationElitism => "education-elitism",
            Ground::AlwaysOn => "always-on",
        }
    }

    pub fn parse(text: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|ground| ground.as_str() == text)
    }

    /// The ground a pack's category is about; `None` for tone and jargon.
    pub fn of_category(category: &str) -> Option<Ground> {
        Some(match category {
            "age" | "ageist" => Ground::Age,
            "disability" | "ableist" | "ablist" => Ground::Disability,
            "religion" => Ground::Religion,
            "race" | "racial" => Ground::Race,
            "national-origin" | "nationality" => Ground::NationalOrigin,
            "sex" | "sexism" | "gender" => Ground::Sex,
            "pregnancy" => Ground::Pregnancy,
            "family" => Ground::Family,
            "sexual-orientation" | "lgbtq" => Ground::SexualOrientation,
            "gender-identity" => Ground::GenderIdentity,
            "appearance" => Ground::Appearance,
            "education-elitism" | "socioeconomic" => Ground::EducationElitism,
            "always-on" => Ground::AlwaysOn,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ground_reads_back_and_has_a_category_of_its_own_name() {
        for ground in Ground::ALL {
            assert_eq!(Ground::parse(ground.as_str()), Some(ground));
            assert_eq!(Ground::of_category(ground.as_str()), Some(ground));
        }
        assert_eq!(Ground::of_category("gender-coded"), None, "coded is not a requirement");
        assert_eq!(Ground::of_category("idiom"), None);
    }
}
