//! Users and the values they type in about themselves.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ids::UserId, validation::check_text, ValidationError};

/// What a user is allowed to do. One role per user; admins can do what
/// clients and freelancers can plus administration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Posts requests and jobs.
    Client,
    /// Offers work, gets matched to jobs.
    Freelancer,
    /// Operates the platform.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Client, Role::Freelancer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Freelancer => "freelancer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| ValidationError::new("role", "must be one of client, freelancer, admin"))
    }
}

/// An email address, trimmed and lower-cased so that one mailbox is one account.
///
/// The check is deliberately structural (one `@`, a dotted domain of sane
/// labels, RFC 5321 lengths) rather than a full RFC 5322 grammar: the only
/// real proof of an address is a delivered mail.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "email";
        let value = input.trim().to_lowercase();
        if value.is_empty() {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        if value.len() > 254 {
            return Err(ValidationError::new(FIELD, "must be at most 254 bytes"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(ValidationError::new(FIELD, "must contain @"));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !local_ok {
            return Err(ValidationError::new(FIELD, "has an invalid part before @"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(ValidationError::new(FIELD, "has an invalid domain"));
        }
        Ok(Self(value))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown to other users: 1–100 characters, trimmed, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = input.trim();
        check_text("display_name", value, 1, 100)?;
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Where a user works from: an ISO 3166 country or subdivision code (`DE`,
/// `US-CA`) or a wider region name (`EU`, `LATAM`), upper-cased. Used for
/// region-aware matching and data residency, so it must be a code, not prose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = input.trim().to_ascii_uppercase();
        let ok = (2..=32).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_alphabetic())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(ValidationError::new(
                "region",
                "must be a region code of 2-32 letters, digits or '-' (e.g. DE, US-CA, EU)",
            ));
        }
        Ok(Self(value))
    }
}

impl AsRef<str> for Region {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A password as typed, before hashing. Length limits only: 8 characters at
/// least (NIST SP 800-63B), 256 at most so hashing cost stays bounded. Any
/// characters are allowed; it is never stored or logged.
pub struct Password(String);

impl Password {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, ValidationError> {
        let chars = input.chars().count();
        if chars < 8 {
            return Err(ValidationError::new(field, "must be at least 8 characters"));
        }
        if chars > 256 {
            return Err(ValidationError::new(field, "must be at most 256 characters"));
        }
        Ok(Self(input.to_owned()))
    }

    /// A password someone is choosing now (sign-up, change, reset): besides
    /// the length (NIST 800-63B's 8-character minimum), refuses what an
    /// attacker tries first: only spaces, one of the most common passwords
    /// (zxcvbn's bundled list), the email address's name, and anything
    /// zxcvbn estimates at under 10^6 guesses, saying why and what helps.
    /// Signing in takes any stored password as it is ([`Password::parse`]).
    pub fn choose(
        field: &'static str,
        input: &str,
        email: &str,
        display_name: &str,
    ) -> Result<Self, ValidationError> {
        let password = Self::parse(field, input)?;
        if input.trim().is_empty() {
            return Err(ValidationError::new(field, "must not be only spaces"));
        }
        let lower = input.to_lowercase();
        let name = email.split('@').next().unwrap_or_default().to_lowercase();
        if name.chars().count() >= 3 && lower.contains(&name) {
            return Err(ValidationError::new(field, "must not contain your email address's name"));
        }
        // zxcvbn's search grows faster than linearly with the length, and its
        // guess arithmetic overflows (a panic in checked builds) on some long
        // hostile strings; past the first 64 characters a password is no
        // weaker, so the estimate looks at those only, and a failure of the
        // estimator is no reason to refuse.
        let head: String = input.chars().take(64).collect();
        let inputs = [name.as_str(), email, display_name];
        let Ok(estimate) = std::panic::catch_unwind(|| zxcvbn::zxcvbn(&head, &inputs)) else {
            return Ok(password);
        };
        if head.len() == input.len() && is_common(estimate.sequence()) {
            return Err(ValidationError::new(field, "is one of the most common passwords"));
        }
        if estimate.score() < zxcvbn::Score::Two {
            let mut advice = vec!["is too easy to guess".to_owned()];
            if let Some(feedback) = estimate.feedback() {
                advice.extend(feedback.warning().map(|warning| warning.to_string()));
                advice.extend(feedback.suggestions().iter().map(ToString::to_string));
            }
            return Err(ValidationError::new(field, advice.join(". ")));
        }
        Ok(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The whole password is one entry of zxcvbn's common-password list
/// (possibly with capitals or l33t substitutions). The list's type is
/// private to the crate; it is the dictionary type's default.
fn is_common(sequence: &[zxcvbn::Match]) -> bool {
    match sequence {
        [only] => matches!(
            &only.pattern,
            zxcvbn::matching::patterns::MatchPattern::Dictionary(found)
                if found.dictionary_name == Default::default() && !found.reversed
        ),
        _ => false,
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// A user account as the rest of the system sees it (never with its password hash).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    #[schema(value_type = String, format = Email)]
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub region: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<OffsetDateTime>,
    /// When the owner opened the verification link sent to `email`.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub email_verified_at: Option<OffsetDateTime>,
    /// When the account was erased: its personal data is gone and the
    /// row only keeps the account's place in what others hold.
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub erased_at: Option<OffsetDateTime>,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    pub fn is_erased(&self) -> bool {
        self.erased_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let email = Email::parse("  Ada@Example.ORG ").expect("valid");
        assert_eq!(email.as_ref(), "ada@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        let cases = [
            ("", "empty"),
            ("ada", "no @"),
            ("@example.org", "empty local part"),
            ("ada@", "empty domain"),
            ("ada@localhost", "undotted domain"),
            ("ada@@example.org", "two @"),
            ("a da@example.org", "space"),
            ("ada@exa_mple.org", "underscore in domain"),
            ("ada@-example.org", "leading hyphen"),
            (".ada@example.org", "leading dot"),
            ("ada\u{0}@example.org", "NUL"),
        ];
        for (input, why) in cases {
            assert!(Email::parse(input).is_err(), "{why}: {input:?} was accepted");
        }
    }

    #[test]
    fn overlong_emails_are_refused() {
        let input = format!("{}@example.org", "a".repeat(250));
        assert!(Email::parse(&input).is_err());
    }

    #[test]
    fn display_names_refuse_control_characters_and_empty_values() {
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("Ada\u{7}").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert_eq!(DisplayName::parse(" Ada Lovelace ").expect("valid").as_ref(), "Ada Lovelace");
    }

    #[test]
    fn regions_are_codes_not_prose() {
        assert_eq!(Region::parse("us-ca").expect("valid").as_ref(), "US-CA");
        assert!(Region::parse("Somewhere nice").is_err());
        assert!(Region::parse("D").is_err());
        assert!(Region::parse("1X").is_err());
    }

    #[test]
    fn chosen_passwords_refuse_what_attackers_try_first() {
        let choose = |input: &str| {
            Password::choose("password", input, "ada.lovelace@example.org", "Ada Lovelace")
        };
        let refused = |input: &str| match choose(input) {
            Ok(_) => panic!("{input:?} must be refused"),
            Err(err) => err.message,
        };
        assert!(refused("password1").contains("most common"), "{}", refused("password1"));
        assert!(
            refused("Password123").contains("most common")
                || refused("Password123").contains("easy")
        );
        assert!(refused("qwertyuiop").contains("most common"));
        assert!(refused("        ").contains("only spaces"));
        assert!(refused("my ada.lovelace!").contains("email"));
        assert!(refused("aaaaaaaaaaaa").contains("easy"));
        assert!(refused("short").contains("8 characters"));
        for fine in [
            "correct horse battery",
            "a brand new secret",
            "fairgig-demo-password",
            "Tr0ub4dor&3x!",
        ] {
            assert!(choose(fine).is_ok(), "{fine} must be accepted: {:?}", choose(fine).err());
        }
        // A short email name does not forbid its letters everywhere.
        assert!(Password::choose("password", "jo-correct horse battery", "jo@example.org", "Jo")
            .is_ok());
    }

    #[test]
    fn passwords_have_length_limits_and_hide_in_debug() {
        assert!(Password::parse("password", "short").is_err());
        assert!(Password::parse("password", &"p".repeat(257)).is_err());
        let password = Password::parse("password", "correct horse").expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
