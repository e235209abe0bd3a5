//! A full-text index that follows the store: the open jobs, or the
//! freelancers open to work. Built from the database in the background at
//! start; before each search the rows changed since the last look (minus
//! [`OVERLAP`]) are applied, so a change made through another replica is
//! seen by the next search here (read-your-writes). Until the first build
//! finishes a search answers from the store.

use std::{collections::HashMap, future::Future, marker::PhantomData, sync::Arc};

use fairgig_core::marketplace::{Availability, JobStatus};
use fairgig_search::{Filters, Found, SearchDoc, Stemming, TextIndex};
use fairgig_store::{
    marketplace::{Job, Profile},
    Store, StoreError,
};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::candidates::OVERLAP;

/// German text is stemmed in German too (the analysis's language
/// detection); everything else in English alone.
fn stemming_of(title: &str, body: &str) -> Stemming {
    let text = format!("{title}. {body}");
    match fairgig_ai::analyse::detect_language(&text) {
        Some(language) if language.code == "deu" => Stemming::German,
        _ => Stemming::English,
    }
}

/// What a [`TextSearch`] indexes: its words, whether it belongs in the
/// index now, and how to read what changed.
pub trait Searchable: Send + Sync + Sized + 'static {
    fn key(&self) -> Uuid;
    /// Its row's change time.
    fn changed_at(&self) -> OffsetDateTime;
    /// In the index at all: a job while open, a profile while open to work.
    fn listed(&self) -> bool;
    /// Its words and filterable facts. Self-declared attributes are never
    /// part of it, so nobody can search or filter by them.
    fn document(&self) -> SearchDoc;
    /// Rows in any state changed at or after `since`.
    fn changed_since(
        store: &Store,
        since: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send;
}

impl Searchable for Job {
    fn key(&self) -> Uuid {
        self.id.as_uuid()
    }

    fn changed_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    fn listed(&self) -> bool {
        self.status == JobStatus::Open
    }

    fn document(&self) -> SearchDoc {
        SearchDoc {
            id: self.id.as_uuid(),
            title: self.input.title.clone(),
            body: self.input.description.clone(),
            skills: self.input.required_skills.clone(),
            region: self.input.region.clone(),
            remote: self.input.remote,
            price_minor: self.input.max_hourly_minor,
            updated_unix: self.updated_at.unix_timestamp(),
            stemming: stemming_of(&self.input.title, &self.input.description),
        }
    }

    async fn changed_since(store: &Store, since: OffsetDateTime) -> Result<Vec<Self>, StoreError> {
        store.jobs_changed_since(since).await
    }
}

impl Searchable for Profile {
    fn key(&self) -> Uuid {
        self.user_id.as_uuid()
    }

    fn changed_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    fn listed(&self) -> bool {
        self.input.availability != Availability::Unavailable
    }

    /// Headline, bio and skills; the region and rate for filters. No
    /// self-declared attribute.
    fn document(&self) -> SearchDoc {
        SearchDoc {
            id: self.user_id.as_uuid(),
            title: self.input.headline.clone(),
            body: self.input.bio.clone(),
            skills: self.input.skills.iter().map(|skill| skill.name.clone()).collect(),
            region: self.input.region.clone(),
            remote: false,
            price_minor: self.input.hourly_rate_minor,
            updated_unix: self.updated_at.unix_timestamp(),
            stemming: stemming_of(&self.input.headline, &self.input.bio),
        }
    }

    async fn changed_since(store: &Store, since: OffsetDateTime) -> Result<Vec<Self>, StoreError> {
        store.profiles_changed_since(since).await
    }
}

/// The full-text index of one kind of entry and how far it has caught up.
pub struct TextSearch<E> {
    text: TextIndex,
    /// `None` until built.
    caught_up: Mutex<Option<CaughtUp>>,
    kind: PhantomData<fn() -> E>,
}

/// The open jobs' index.
pub type JobSearch = TextSearch<Job>;
/// The index of freelancers open to work.
pub type ProfileSearch = TextSearch<Profile>;

/// Where the next look starts, and each indexed entry's change time: an
/// entry seen again inside the look-back overlap, unchanged, is not indexed
/// (and committed) again at every search.
struct CaughtUp {
    cursor: OffsetDateTime,
    indexed: HashMap<Uuid, OffsetDateTime>,
}

impl<E> std::fmt::Debug for TextSearch<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextSearch").field("text", &self.text).finish()
    }
}

impl<E: Searchable> TextSearch<E> {
    pub fn new() -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(TextSearch {
            text: TextIndex::in_memory()?,
            caught_up: Mutex::new(None),
            kind: PhantomData,
        }))
    }

    /// Indexes every listed entry (at start, in the background, or for the
    /// first search that cannot wait); once built, a second call does nothing.
    pub async fn build(&self, store: &Store) -> anyhow::Result<u64> {
        let mut guard = self.caught_up.lock().await;
        if guard.is_some() {
            return Ok(self.text.len());
        }
        let started = OffsetDateTime::now_utc();
        let mut caught_up = CaughtUp { cursor: started - OVERLAP, indexed: HashMap::new() };
        self.apply(&mut caught_up, E::changed_since(store, OffsetDateTime::UNIX_EPOCH).await?)?;
        *guard = Some(caught_up);
        Ok(self.text.len())
    }

    /// Applies the entries changed since the last look; `None` before the
    /// build, else how many changed the index.
    pub async fn refresh(&self, store: &Store) -> anyhow::Result<Option<usize>> {
        let mut guard = self.caught_up.lock().await;
        let Some(caught_up) = guard.as_mut() else { return Ok(None) };
        let started = OffsetDateTime::now_utc();
        let changed = self.apply(caught_up, E::changed_since(store, caught_up.cursor).await?)?;
        caught_up.cursor = started - OVERLAP;
        Ok(Some(changed))
    }

    /// The best `depth` entries by words that pass the filters.
    pub fn search(
        &self,
        text: &str,
        filters: &Filters,
        depth: usize,
    ) -> Result<Found, fairgig_search::SearchError> {
        self.text.search(text, filters, depth)
    }

    /// Indexes listed entries and drops the others, skipping rows seen
    /// before with the same change time; commits only when something changed.
    fn apply(&self, caught_up: &mut CaughtUp, entries: Vec<E>) -> anyhow::Result<usize> {
        let mut changed = 0;
        for entry in &entries {
            let id = entry.key();
            if caught_up.indexed.get(&id) == Some(&entry.changed_at()) {
                continue;
            }
            if entry.listed() {
                self.text.upsert(&entry.document())?;
                caught_up.indexed.insert(id, entry.changed_at());
            } else if caught_up.indexed.remove(&id).is_some() {
                self.text.remove(id)?;
            } else {
                continue;
            }
            changed += 1;
        }
        if changed > 0 {
            self.text.commit()?;
        }
        Ok(changed)
    }
}
