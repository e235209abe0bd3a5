//! The freelancer's profile editor: the language check of the headline and
//! bio as they type (hints, never a refusal) and skill suggestions from the
//! skills list.

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
    jobs::Findings,
    page::{check_csrf, render, render_with, require_sign_in, LenientQuery, Page, PortalError},
    session::Visitor,
};
use crate::PortalState;

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
    /// The language check of the headline and bio, rendered.
    findings: String,
    notice: String,
}

/// The rendered findings of a headline and bio.
fn findings(
    visitor: &Visitor,
    headline: &str,
    bio: &str,
    report: fairgig_ai::bias::Report,
) -> String {
    let text = format!("{headline}\n\n{bio}");
    Findings::of(Page::new(visitor, "profile-title"), &text, Some(report))
        .render()
        .unwrap_or_default()
}

pub async fn profile_form(
    State(state): State<PortalState>,
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
    let report = profiles::hints(&state.engine, &form.headline, &form.bio);
    Ok(render(&ProfilePage {
        page: Page::new(&visitor, "profile-title").with_htmx(),
        findings: findings(&visitor, &form.headline, &form.bio, report),
        notice: String::new(),
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
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let error = match form.to_request(&visitor) {
        Ok(request) => match profiles::put_mine(&state.engine, caller, request).await {
            Ok(saved) if saved.hints.findings.is_empty() => {
                return Ok(Redirect::to("/dashboard").into_response())
            }
            // Saved; the words worth a second look are shown with the form.
            Ok(saved) => {
                let page = Page::new(&visitor, "profile-title").with_htmx();
                let notice = page.t.msg("profile-saved-hints");
                let findings = findings(&visitor, &form.headline, &form.bio, saved.hints);
                let error = FieldError::default();
                return Ok(render(&ProfilePage { page, form, error, findings, notice }));
            }
            Err(err) => FieldError::from_engine(&visitor, err)?,
        },
        Err(error) => error,
    };
    let page = Page::new(&visitor, "profile-title").with_htmx();
    let report = profiles::hints(&state.engine, &form.headline, &form.bio);
    let findings = findings(&visitor, &form.headline, &form.bio, report);
    let notice = String::new();
    let page = ProfilePage { page, form, error, findings, notice };
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// `POST /profile/preview` (htmx): the findings of the headline and bio so far.
pub async fn preview(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let report = profiles::preview(&state.engine, caller, &form.headline, &form.bio)
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let text = format!("{}\n\n{}", form.headline, form.bio);
    Ok(render(&Findings::of(Page::new(&visitor, "profile-title"), &text, Some(report))))
}

#[derive(Debug, Default, Deserialize)]
pub struct SkillsQuery {
    #[serde(default)]
    skills: String,
}

#[derive(Template)]
#[template(path = "portal/skill_suggestions.html")]
struct SkillSuggestions {
    /// Whole field values: what was typed with its last name completed, so
    /// the browser's own matching of a datalist against the field works.
    options: Vec<String>,
}

/// `GET /profile/skills` (htmx): suggestions for the skill being typed.
pub async fn skill_suggestions(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<SkillsQuery>,
) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let typed = query.skills;
    let before =
        typed.rsplit_once(',').map(|(before, _)| format!("{before}, ")).unwrap_or_default();
    let options = profiles::suggest_skills(&state.engine, &typed)
        .into_iter()
        .map(|skill| format!("{before}{skill}"))
        .collect();
    Ok(render(&SkillSuggestions { options }))
}
