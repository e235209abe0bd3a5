//! The freelancer's profile editor.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::{
    marketplace::{Availability, ProfileSkill, SkillLevel},
    submission::Budget,
};
use fairgig_engine::profiles::{self, ProfileRequest};
use serde::Deserialize;

use super::{
    accounts::FieldError,
    page::{check_csrf, render, render_with, require_sign_in, Page, PortalError},
    session::Visitor,
};
use crate::state::AppState;

/// The profile form as typed (skills comma-separated).
#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    headline: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    hourly_rate: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    availability: String,
    #[serde(default)]
    years_experience: String,
    /// Optional self-declared attributes, one `name: answer` per line.
    #[serde(default)]
    attributes: String,
}

#[derive(Template)]
#[template(path = "portal/profile.html")]
struct ProfilePage {
    page: Page,
    form: ProfileForm,
    error: FieldError,
}

pub async fn profile_form(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let existing = profiles::mine(&state.engine, caller)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let form = match existing {
        Some(profile) => {
            let input = profile.input;
            ProfileForm {
                headline: input.headline,
                bio: input.bio,
                skills: input.skills.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                hourly_rate: input
                    .hourly_rate_minor
                    .map(|minor| format!("{}", minor as f64 / 100.0))
                    .unwrap_or_default(),
                currency: input.currency.unwrap_or_else(|| "EUR".into()),
                region: input.region.unwrap_or_default(),
                availability: input.availability.as_str().to_owned(),
                years_experience: input.years_experience.to_string(),
                attributes: input
                    .group_attributes
                    .iter()
                    .map(|(name, answer)| format!("{name}: {answer}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                ..ProfileForm::default()
            }
        }
        None => ProfileForm {
            currency: "EUR".into(),
            availability: "available".into(),
            years_experience: "0".into(),
            ..ProfileForm::default()
        },
    };
    Ok(render(&ProfilePage {
        page: Page::new(&visitor, "profile-title"),
        form,
        error: FieldError::default(),
    }))
}

impl ProfileForm {
    /// `name: answer` lines; blank lines are skipped, a line without a
    /// colon is refused (the engine checks the sizes).
    fn group_attributes(&self) -> Result<std::collections::BTreeMap<String, String>, FieldError> {
        let mut attributes = std::collections::BTreeMap::new();
        for line in self.attributes.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let Some((name, answer)) = line.split_once(':') else {
                return Err(FieldError {
                    field: "group_attributes".into(),
                    message: format!("{line:?}: write name: answer"),
                });
            };
            attributes.insert(name.trim().to_lowercase(), answer.trim().to_owned());
        }
        Ok(attributes)
    }

    fn to_request(&self, visitor: &Visitor) -> Result<ProfileRequest, FieldError> {
        let t = visitor.messages();
        let invalid =
            |field: &str, key: &str| FieldError { field: field.into(), message: t.msg(key) };
        let skills = self
            .skills
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| ProfileSkill { name: name.to_owned(), level: SkillLevel::Intermediate })
            .collect();
        let hourly_rate = match self.hourly_rate.trim() {
            "" => None,
            rate => Some(Budget {
                amount_minor: super::requests::parse_amount(rate)
                    .ok_or_else(|| invalid("hourly_rate", "request-budget-invalid"))?,
                currency: self.currency.trim().to_uppercase(),
            }),
        };
        let years_experience = match self.years_experience.trim() {
            "" => 0.0,
            years => years
                .replace(',', ".")
                .parse::<f64>()
                .map_err(|_| invalid("years_experience", "profile-years-invalid"))?,
        };
        let availability =
            self.availability.parse::<Availability>().unwrap_or(Availability::Available);
        Ok(ProfileRequest {
            headline: self.headline.clone(),
            bio: self.bio.clone(),
            skills,
            hourly_rate,
            region: Some(self.region.trim().to_owned()).filter(|region| !region.is_empty()),
            utc_offset_minutes: None,
            availability,
            years_experience,
            languages: Vec::new(),
            portfolio: Vec::new(),
            group_attributes: self.group_attributes()?,
        })
    }
}

pub async fn save_profile(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let error = match form.to_request(&visitor) {
        Ok(request) => match profiles::put_mine(&state.engine, caller, request).await {
            Ok(_) => return Ok(Redirect::to("/dashboard").into_response()),
            Err(err) => FieldError::from_engine(&visitor, err)?,
        },
        Err(error) => error,
    };
    let page = Page::new(&visitor, "profile-title");
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &ProfilePage { page, form, error }))
}
