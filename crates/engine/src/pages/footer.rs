//! The site footer's links: public pages tagged `footer`, each in the
//! visitor's locale where it is translated and in the default locale
//! otherwise, by title.
//!
//! Every portal page shows them, so they come from a short-lived cache per
//! locale rather than a query per page view. A page write in this process
//! clears it; other processes, and a scheduled page falling due, show up
//! within [`TTL`].

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fairgig_core::content::DEFAULT_LOCALE;
use fairgig_store::pages::PageFilter;

use crate::{error::Result, services::Engine};

/// The tag that puts a page in the footer.
pub const FOOTER_TAG: &str = "footer";
/// How long a locale's links are kept.
pub const TTL: Duration = Duration::from_secs(30);

/// One footer link: the page's title and where it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FooterLink {
    pub title: String,
    pub locale: String,
    pub slug: String,
}

/// One locale's links and when they were read.
type Read = (Instant, Arc<Vec<FooterLink>>);

/// Each locale's links and when they were read.
#[derive(Debug, Default)]
pub struct FooterCache {
    links: Mutex<HashMap<String, Read>>,
}

impl FooterCache {
    /// Forgets every locale's links (a page was written).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Read>> {
        self.links.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The footer links for a visitor reading in `locale`.
pub async fn links(engine: &Engine, locale: &str) -> Result<Arc<Vec<FooterLink>>> {
    if let Some((read, links)) = engine.footer.lock().get(locale) {
        if read.elapsed() < TTL {
            return Ok(Arc::clone(links));
        }
    }
    let filter = PageFilter { tag: Some(FOOTER_TAG.to_owned()), ..PageFilter::default() };
    let pages = super::list(engine, None, filter).await?;
    let mut chosen: HashMap<_, &fairgig_store::pages::Page> = HashMap::new();
    for page in &pages {
        let better = match chosen.get(&page.group) {
            None => page.locale == locale || page.locale == DEFAULT_LOCALE,
            Some(held) => page.locale == locale && held.locale != locale,
        };
        if better {
            chosen.insert(page.group, page);
        }
    }
    let mut links: Vec<FooterLink> = chosen
        .into_values()
        .map(|page| FooterLink {
            title: page.content.title.clone(),
            locale: page.locale.clone(),
            slug: page.content.slug.clone(),
        })
        .collect();
    links.sort_by_key(|link| link.title.to_lowercase());
    let links = Arc::new(links);
    engine.footer.lock().insert(locale.to_owned(), (Instant::now(), Arc::clone(&links)));
    Ok(links)
}
