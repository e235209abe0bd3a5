//! The official ESCO v1.1.1 export (`../shared/data/skills/esco-v1.1.1`)
//! as the evaluations read it: occupations with their ISCO unit group,
//! labels and description, and each occupation's essential skills.

use std::{collections::HashMap, io::Read, path::Path};

use anyhow::Context;

pub struct Occupation {
    pub uri: String,
    /// The 4-digit ISCO unit group.
    pub isco: String,
    pub title: String,
    pub description: String,
    pub alternatives: Vec<String>,
}

/// The CSV `name` inside the zip `archive`, as rows of named columns.
fn csv_rows(archive: &Path, name: &str) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut zip =
        zip::ZipArchive::new(file).with_context(|| format!("reading {}", archive.display()))?;
    let mut text = String::new();
    zip.by_name(name)
        .with_context(|| format!("{name} in {}", archive.display()))?
        .read_to_string(&mut text)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(
            headers.iter().map(str::to_owned).zip(record.iter().map(str::to_owned)).collect(),
        );
    }
    Ok(rows)
}

/// Each occupation's essential skill names (in the export's order), by
/// occupation URI.
pub type EssentialSkills = HashMap<String, Vec<String>>;

pub fn load(esco: &Path) -> anyhow::Result<(Vec<Occupation>, EssentialSkills)> {
    let classification = esco.join("ESCO-v1.1.1-classification-en-csv.zip");
    let relations = esco.join("ESCO-v1.1.1-relations-csv.zip");
    let field =
        |row: &HashMap<String, String>, name: &str| row.get(name).cloned().unwrap_or_default();
    let occupations: Vec<Occupation> = csv_rows(&classification, "occupations_en.csv")?
        .iter()
        .map(|row| {
            let title = field(row, "preferredLabel");
            Occupation {
                uri: field(row, "conceptUri"),
                isco: field(row, "iscoGroup"),
                alternatives: field(row, "altLabels")
                    .lines()
                    .map(str::trim)
                    .filter(|alt| !alt.is_empty() && !alt.eq_ignore_ascii_case(&title))
                    .map(str::to_owned)
                    .collect(),
                description: field(row, "description"),
                title,
            }
        })
        .collect();
    let skill_names: HashMap<String, String> = csv_rows(&classification, "skills_en.csv")?
        .iter()
        .map(|row| (field(row, "conceptUri"), field(row, "preferredLabel")))
        .collect();
    let mut essential = EssentialSkills::new();
    for row in csv_rows(&relations, "occupationSkillRelations.csv")? {
        if field(&row, "relationType") != "essential" {
            continue;
        }
        let skills = essential.entry(field(&row, "occupationUri")).or_default();
        if let Some(name) = skill_names.get(&field(&row, "skillUri")) {
            skills.push(name.clone());
        }
    }
    Ok((occupations, essential))
}
