//! Messages in the visitor's language (Fluent catalogues in `locales/`,
//! one file per language, built into the binary). The language comes from
//! the visitor's choice (the `fg_lang` cookie), then `Accept-Language`,
//! then English. Adding a language is adding a file and a [`Locale`];
//! tests keep every file complete and its placeholders the English ones.

use std::sync::LazyLock;

use fluent_bundle::{concurrent::FluentBundle, FluentArgs, FluentResource, FluentValue};
use unic_langid::{langid, LanguageIdentifier};

/// The languages the portal speaks: the content service's five.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    En,
    De,
    Fr,
    Es,
    Cs,
}

impl Locale {
    pub const ALL: [Locale; 5] = [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::Cs];

    /// The BCP 47 tag, for `lang` attributes and the language cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::Cs => "cs",
        }
    }

    /// The language's name in itself, as the language menu shows it.
    pub fn endonym(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
            Locale::Fr => "Français",
            Locale::Es => "Español",
            Locale::Cs => "Čeština",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Locale::ALL.into_iter().find(|locale| locale.tag() == primary)
    }

    /// The chosen language, else the best `Accept-Language` match (by
    /// q-value), else English.
    pub fn negotiate(chosen: Option<&str>, accept_language: Option<&str>) -> Locale {
        if let Some(locale) = chosen.and_then(Locale::from_tag) {
            return locale;
        }
        let mut offered: Vec<(f32, Locale)> = accept_language
            .unwrap_or_default()
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let locale = Locale::from_tag(parts.next()?)?;
                let quality = parts
                    .find_map(|part| part.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (quality > 0.0).then_some((quality, locale))
            })
            .collect();
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered.first().map_or(Locale::En, |(_, locale)| *locale)
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Locale::En => langid!("en"),
            Locale::De => langid!("de"),
            Locale::Fr => langid!("fr"),
            Locale::Es => langid!("es"),
            Locale::Cs => langid!("cs"),
        }
    }

    fn source(self) -> &'static str {
        match self {
            Locale::En => include_str!("../locales/en.ftl"),
            Locale::De => include_str!("../locales/de.ftl"),
            Locale::Fr => include_str!("../locales/fr.ftl"),
            Locale::Es => include_str!("../locales/es.ftl"),
            Locale::Cs => include_str!("../locales/cs.ftl"),
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: LazyLock<Vec<(Locale, Bundle)>> = LazyLock::new(|| {
    Locale::ALL
        .into_iter()
        .map(|locale| {
            let mut bundle = Bundle::new_concurrent(vec![locale.id()]);
            // Pages are left to right; isolation marks would show as stray characters in titles.
            bundle.set_use_isolating(false);
            match FluentResource::try_new(locale.source().to_owned()) {
                Ok(resource) => {
                    if let Err(errors) = bundle.add_resource(resource) {
                        tracing::error!(?errors, locale = locale.tag(), "duplicate messages");
                    }
                }
                Err((resource, errors)) => {
                    tracing::error!(?errors, locale = locale.tag(), "unreadable messages");
                    let _ = bundle.add_resource(resource);
                }
            }
            (locale, bundle)
        })
        .collect()
});

/// The messages of one language, as templates call them: `t.msg("key")`.
#[derive(Clone, Copy, Debug)]
pub struct Messages {
    pub locale: Locale,
}

impl Messages {
    pub fn new(locale: Locale) -> Self {
        Messages { locale }
    }

    /// The message `key`; English when this language lacks it, the key
    /// itself when no language has it (a test keeps that from shipping).
    pub fn msg(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with one argument.
    pub fn msg_with(&self, key: &str, name: &str, value: impl ToString) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(value.to_string()));
        self.format(key, Some(&args))
    }

    /// The message `key` with several arguments.
    pub fn msg_args(&self, key: &str, args: &FluentArgs<'_>) -> String {
        self.format(key, Some(args))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        for locale in [self.locale, Locale::En] {
            let Some((_, bundle)) = BUNDLES.iter().find(|(l, _)| *l == locale) else { continue };
            if let Some(pattern) = bundle.get_message(key).and_then(|message| message.value()) {
                let mut errors = Vec::new();
                return bundle.format_pattern(pattern, args, &mut errors).into_owned();
            }
        }
        key.to_owned()
    }

    /// Whether `key` exists in this language.
    pub fn has(&self, key: &str) -> bool {
        BUNDLES
            .iter()
            .find(|(l, _)| *l == self.locale)
            .is_some_and(|(_, bundle)| bundle.has_message(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(source: &str) -> Vec<String> {
        source
            .lines()
            .filter(|line| !line.starts_with([' ', '#', '\t']) && line.contains(" ="))
            .filter_map(|line| line.split(" =").next().map(|key| key.trim().to_owned()))
            .collect()
    }

    #[test]
    fn every_language_has_every_english_message() {
        let english = keys(Locale::En.source());
        assert!(english.len() > 20, "{english:?}");
        for locale in Locale::ALL {
            let messages = Messages::new(locale);
            let missing: Vec<&String> = english.iter().filter(|key| !messages.has(key)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", locale.tag());
        }
    }

    /// The `{ $name }` placeholders of each message of `source`.
    fn placeholders(source: &str) -> std::collections::BTreeMap<String, Vec<String>> {
        source
            .lines()
            .filter(|line| !line.starts_with([' ', '#', '\t']) && line.contains(" ="))
            .filter_map(|line| {
                let (key, value) = line.split_once(" =")?;
                let mut names: Vec<String> = value
                    .split("{ $")
                    .skip(1)
                    .filter_map(|rest| rest.split(' ').next().map(str::to_owned))
                    .collect();
                names.sort();
                Some((key.trim().to_owned(), names))
            })
            .collect()
    }

    #[test]
    fn every_translation_takes_the_english_placeholders() {
        let english = placeholders(Locale::En.source());
        for locale in Locale::ALL {
            for (key, names) in placeholders(locale.source()) {
                assert_eq!(Some(&names), english.get(&key), "{} {key}", locale.tag());
            }
        }
    }

    #[test]
    fn every_message_the_templates_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/portal");
        let english = Messages::new(Locale::En);
        let mut used = 0;
        for entry in std::fs::read_dir(&dir).expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            for call in text.split("msg(\"").skip(1).chain(text.split("msg_with(\"").skip(1)) {
                let key = call.split('"').next().unwrap_or_default();
                used += 1;
                assert!(english.has(key), "{} uses unknown message {key:?}", path.display());
            }
        }
        assert!(used > 20, "only {used} messages found in the templates");
    }

    #[test]
    fn the_language_is_chosen_then_negotiated() {
        assert_eq!(Locale::negotiate(Some("de"), Some("en")), Locale::De);
        assert_eq!(Locale::negotiate(None, Some("fr-CH, de;q=0.8, en;q=0.5")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("it-IT, cs;q=0.8, en;q=0.5")), Locale::Cs);
        assert_eq!(Locale::negotiate(None, Some("es-MX;q=0.7, pt-BR")), Locale::Es);
        assert_eq!(Locale::negotiate(None, Some("en-GB;q=0.4, de-AT;q=0.9")), Locale::De);
        assert_eq!(Locale::negotiate(Some("xx"), Some("garbage;;;q=abc")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("de;q=0")), Locale::En);
        assert_eq!(Messages::new(Locale::De).msg("no-such-key"), "no-such-key");
    }
}
