//! The brief a client gets back: goals, deliverables, constraints, open
//! questions and risks, filled deterministically from the request and its
//! analysis. Every goal, deliverable and constraint says where it came
//! from — a quote that occurs word for word in the request, or a form
//! field — so nothing in a brief is invented.

use serde::{Deserialize, Serialize};

use crate::analyse::{complexity::Level, summary::sentences, Analysis};

/// How many deliverables a brief lists.
const MAX_DELIVERABLES: usize = 6;

/// What the brief is made from.
#[derive(Clone, Copy, Debug)]
pub struct BriefInput<'a> {
    pub title: &'a str,
    /// The submission's text with everything extracted and transcribed.
    pub text: &'a str,
    pub analysis: &'a Analysis,
    /// The form's budget, as written for people (`4,500.00 EUR`).
    pub budget: Option<&'a str>,
    /// The form's deadline, ISO 8601.
    pub deadline: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The bias check asked for a review of the wording.
    pub needs_review: bool,
    /// Part of a voice recording was past the transcription limit.
    pub truncated_recording: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub goals: Vec<Point>,
    pub deliverables: Vec<Point>,
    pub constraints: Vec<Constraint>,
    pub open_questions: Vec<String>,
    pub risks: Vec<String>,
}

/// One statement and its source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub text: String,
    pub source: Source,
}

/// Where a statement comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Source {
    /// Words of the request, quoted exactly.
    Request { quote: String },
    /// A field of the submission form.
    Form { field: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    Budget,
    Deadline,
    Region,
    Skill,
}

impl ConstraintKind {
    /// The serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Budget => "budget",
            Self::Deadline => "deadline",
            Self::Region => "region",
            Self::Skill => "skill",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub value: String,
    pub source: Source,
}

/// Words that start a deliverable: what the client wants made or done.
const DELIVERABLE_CUES: [&str; 49] = [
    "build",
    "create",
    "design",
    "develop",
    "write",
    "make",
    "translate",
    "migrate",
    "set up",
    "implement",
    "redesign",
    "fix",
    "improve",
    "integrate",
    "produce",
    "edit",
    "deliver",
    "need a",
    "need an",
    "needs a",
    "want a",
    "want an",
    "would like a",
    "looking for a",
    "looking for an",
    "should",
    "must",
    "automate",
    "launch",
    "add",
    "replace",
    "optimise",
    "optimize",
    "train",
    // German: what a request asks to be made or done.
    "brauchen",
    "benötigen",
    "suchen",
    "möchten",
    "soll",
    "sollen",
    "muss",
    "müssen",
    "erstellen",
    "entwickeln",
    "bauen",
    "programmieren",
    "gestalten",
    "umsetzen",
    "einrichten",
];

/// The fixed sentences of a brief, in the request's language: a German
/// request gets German questions and risks (the portal's two languages);
/// every other language gets English.
struct Phrases {
    what_delivered: &'static str,
    what_budget: &'static str,
    by_when: &'static str,
    which_tools: &'static str,
    say_more: &'static str,
    where_work: &'static str,
    large_scope: &'static str,
    /// Followed by ": agree which come first." after the count.
    separate_deliverables: fn(usize) -> String,
    exclusionary_wording: &'static str,
    recording_cut: &'static str,
    very_short: &'static str,
}

const ENGLISH: Phrases = Phrases {
    what_delivered: "What exactly should be delivered at the end?",
    what_budget: "What budget do you have in mind?",
    by_when: "By when do you need it?",
    which_tools: "Are there tools, platforms or technologies the work must use?",
    say_more: "Could you say more about who will use the result and what success looks like?",
    where_work: "Does the freelancer need to work in your region or time zone, or is remote fine?",
    large_scope: "Large scope: splitting the work into phases with their own deliverables keeps \
                  it manageable.",
    separate_deliverables: |n| format!("{n} separate deliverables: agree which come first."),
    exclusionary_wording:
        "Some wording may exclude candidates; the bias check lists it for review.",
    recording_cut: "The voice recording was longer than this server transcribes; its end is not \
                    in this brief.",
    very_short: "The request is very short; estimates from it are rough.",
};

const GERMAN: Phrases = Phrases {
    what_delivered: "Was genau soll am Ende geliefert werden?",
    what_budget: "Welches Budget haben Sie vorgesehen?",
    by_when: "Bis wann brauchen Sie es?",
    which_tools: "Gibt es Werkzeuge, Plattformen oder Technologien, die verwendet werden müssen?",
    say_more: "Können Sie mehr dazu sagen, wer das Ergebnis nutzt und woran Sie Erfolg messen?",
    where_work: "Muss die Person in Ihrer Region oder Zeitzone arbeiten, oder geht es auch aus \
                 der Ferne?",
    large_scope: "Großer Umfang: Phasen mit eigenen Ergebnissen halten die Arbeit überschaubar.",
    separate_deliverables: |n| {
        format!("{n} einzelne Ergebnisse: Vereinbaren Sie, welche zuerst kommen.")
    },
    exclusionary_wording: "Manche Formulierungen könnten Bewerbende ausschließen; die \
                           Bias-Prüfung listet sie zur Durchsicht.",
    recording_cut: "Die Sprachaufnahme war länger, als dieser Server transkribiert; ihr Ende \
                    fehlt in diesem Brief.",
    very_short: "Die Anfrage ist sehr kurz; Schätzungen daraus sind grob.",
};

/// The phrases for the language the analysis detected.
fn phrases(analysis: &Analysis) -> &'static Phrases {
    match analysis.language.as_ref().map(|language| language.code.as_ref()) {
        Some("deu") => &GERMAN,
        _ => &ENGLISH,
    }
}

/// The brief of `input`.
pub fn brief(input: &BriefInput<'_>) -> Brief {
    let say = phrases(input.analysis);
    let request = |quote: &str| Source::Request { quote: quote.to_owned() };
    let form = |field: &str| Source::Form { field: field.to_owned() };
    let all = sentences(input.text);

    let mut goals = vec![Point { text: input.title.trim().to_owned(), source: form("title") }];
    if let Some(lead) = input.analysis.summary.first().filter(|s| input.text.contains(s.as_str())) {
        goals.push(Point { text: lead.clone(), source: request(lead) });
    }

    let deliverables: Vec<Point> = all
        .iter()
        .filter(|sentence| is_deliverable(sentence))
        .filter(|sentence| input.text.contains(sentence.as_str()))
        .take(MAX_DELIVERABLES)
        .map(|sentence| Point { text: sentence.clone(), source: request(sentence) })
        .collect();

    let mut constraints = Vec::new();
    match (input.budget, input.analysis.money.first()) {
        (Some(budget), _) => constraints.push(Constraint {
            kind: ConstraintKind::Budget,
            value: budget.to_owned(),
            source: form("budget"),
        }),
        (None, Some(mention)) => constraints.push(Constraint {
            kind: ConstraintKind::Budget,
            value: format!("{:.2} {}", mention.amount_minor as f64 / 100.0, mention.currency),
            source: request(&mention.text),
        }),
        (None, None) => {}
    }
    let dated = input.analysis.dates.iter().find(|mention| mention.date.is_some());
    match (input.deadline, dated) {
        (Some(deadline), _) => constraints.push(Constraint {
            kind: ConstraintKind::Deadline,
            value: deadline.to_owned(),
            source: form("deadline"),
        }),
        (None, Some(mention)) => constraints.push(Constraint {
            kind: ConstraintKind::Deadline,
            value: mention.date.clone().unwrap_or_default(),
            source: request(&mention.text),
        }),
        (None, None) => {}
    }
    if let Some(region) = input.region {
        constraints.push(Constraint {
            kind: ConstraintKind::Region,
            value: region.to_owned(),
            source: form("region"),
        });
    }
    let mut seen = Vec::new();
    for mention in &input.analysis.skills {
        if !seen.contains(&mention.label) {
            seen.push(mention.label.clone());
            constraints.push(Constraint {
                kind: ConstraintKind::Skill,
                value: mention.label.clone(),
                source: request(&mention.matched),
            });
        }
    }

    let has = |kind| constraints.iter().any(|c: &Constraint| c.kind == kind);
    let mut open_questions = Vec::new();
    let mut ask = |question: &str| open_questions.push(question.to_owned());
    if deliverables.is_empty() {
        ask(say.what_delivered);
    }
    if !has(ConstraintKind::Budget) {
        ask(say.what_budget);
    }
    if !has(ConstraintKind::Deadline) {
        ask(say.by_when);
    }
    if !has(ConstraintKind::Skill) {
        ask(say.which_tools);
    }
    if input.analysis.words < 40 {
        ask(say.say_more);
    }
    if input.region.is_none() {
        ask(say.where_work);
    }

    let mut risks = Vec::new();
    if input.analysis.complexity.level == Level::High {
        risks.push(say.large_scope.to_owned());
    }
    if deliverables.len() >= 4 {
        risks.push((say.separate_deliverables)(deliverables.len()));
    }
    if input.needs_review {
        risks.push(say.exclusionary_wording.to_owned());
    }
    if input.truncated_recording {
        risks.push(say.recording_cut.to_owned());
    }
    if input.analysis.words < 15 {
        risks.push(say.very_short.to_owned());
    }
    Brief { goals, deliverables, constraints, open_questions, risks }
}

fn is_deliverable(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    !lower.ends_with('?')
        && DELIVERABLE_CUES.iter().any(|cue| {
            lower.match_indices(cue).any(|(at, _)| {
                let before = lower[..at].chars().next_back();
                let after = lower[at + cue.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
        })
}

impl Brief {
    /// Quotes that do not occur in `text` (none, for a brief made here;
    /// the check a language model's brief must also pass).
    pub fn ungrounded<'a>(&'a self, text: &str) -> Vec<&'a str> {
        let quotes = self
            .goals
            .iter()
            .chain(&self.deliverables)
            .map(|point| &point.source)
            .chain(self.constraints.iter().map(|c| &c.source));
        quotes
            .filter_map(|source| match source {
                Source::Request { quote } if !text.contains(quote.as_str()) => Some(quote.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The deliverables' texts.
    pub fn deliverable_texts(&self) -> Vec<&str> {
        self.deliverables.iter().map(|point| point.text.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::{analyse, SkillIndex};

    #[test]
    fn a_german_request_gets_german_questions_and_its_deliverables() {
        let text = "Wir brauchen eine neue Website für unsere Praxis in Köln mit \
                    Online-Terminbuchung. Die Seite soll auf Deutsch und Englisch sein.";
        let analysis = analyse(text, &SkillIndex::builtin(), 0);
        assert_eq!(analysis.language.as_ref().map(|l| l.code.as_ref()), Some("deu"));
        let made = brief(&BriefInput {
            title: "Website für eine Praxis",
            text,
            analysis: &analysis,
            budget: None,
            deadline: None,
            region: None,
            needs_review: false,
            truncated_recording: false,
        });
        assert!(made.open_questions.contains(&GERMAN.what_budget.to_owned()), "{made:?}");
        assert!(made.open_questions.iter().all(|q| !q.contains("budget do you")), "{made:?}");
        assert_eq!(made.deliverables.len(), 2, "{made:?}");
        assert!(made.ungrounded(text).is_empty());
    }

    fn made(text: &str, budget: Option<&str>) -> Brief {
        let analysis = analyse(text, &SkillIndex::builtin(), 0);
        brief(&BriefInput {
            title: "Bakery website",
            text,
            analysis: &analysis,
            budget,
            deadline: None,
            region: None,
            needs_review: false,
            truncated_recording: false,
        })
    }

    #[test]
    fn every_quote_is_in_the_request_and_each_part_is_found() {
        let text = "We run a small bakery in Leipzig. We need a website with an online order form \
                    and a page for our opening hours. Please also design a new logo. The budget \
                    is €3,000 and it should be live by 2027-03-01. We use WordPress today.";
        let made = made(text, None);
        assert!(made.ungrounded(text).is_empty(), "{:?}", made.ungrounded(text));
        let deliverables = made.deliverable_texts();
        assert!(deliverables.iter().any(|d| d.contains("online order form")), "{deliverables:?}");
        assert!(deliverables.iter().any(|d| d.contains("logo")), "{deliverables:?}");
        assert!(!deliverables.iter().any(|d| d.contains("Leipzig")), "{deliverables:?}");
        let budget = made.constraints.iter().find(|c| c.kind == ConstraintKind::Budget);
        assert_eq!(budget.map(|c| c.value.as_str()), Some("3000.00 EUR"));
        let deadline = made.constraints.iter().find(|c| c.kind == ConstraintKind::Deadline);
        assert_eq!(deadline.map(|c| c.value.as_str()), Some("2027-03-01"));
        assert!(made.constraints.iter().any(|c| c.kind == ConstraintKind::Skill));
        assert!(!made.open_questions.iter().any(|q| q.contains("budget")));
        assert!(made.open_questions.iter().any(|q| q.contains("region")));
    }

    #[test]
    fn what_is_missing_becomes_a_question_and_the_form_is_cited_as_the_form() {
        let text = "Help with our shop.";
        let made = made(text, Some("500.00 EUR"));
        assert!(made.deliverables.is_empty());
        assert!(made.open_questions.iter().any(|q| q.contains("delivered")));
        assert!(made.open_questions.iter().any(|q| q.contains("By when")));
        assert!(!made.open_questions.iter().any(|q| q.contains("budget")));
        let budget = made.constraints.iter().find(|c| c.kind == ConstraintKind::Budget);
        assert_eq!(budget.map(|c| &c.source), Some(&Source::Form { field: "budget".into() }));
        assert!(made.risks.iter().any(|r| r.contains("very short")));
    }

    #[test]
    fn a_cue_inside_a_word_is_not_a_deliverable() {
        assert!(!is_deliverable("Our builders are busy."));
        assert!(is_deliverable("Build us a shop."));
        assert!(!is_deliverable("Can you build a shop?"));
    }
}
