//! A full-text index that follows the store: the open jobs, or the
//! freelancers open to work. Built from the database in the background at
//! start; before each search the rows changed since the last look (minus
//! [`OVERLAP`]) are applied, so a change made through another replica is
//! seen by the next search here (read-your-writes). Until the first build
//! finishes a search answers from the store.
//!
//! Restarts: the index lives under the data dir (`search/jobs`,
//! `search/profiles`) and every commit records the cursor it is current
//! to, so a start reopens it and applies only what changed since; a
//! missing or unreadable folder, or one of an older format, means a full
//! build.

use std::{
    collections::HashMap,
    future::Future,
    marker::PhantomData,
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use fairgig_core::{
    content::PageStatus,
    marketplace::{Availability, JobStatus},
};
use fairgig_search::{Filters, Found, SearchDoc, Stemming, TextIndex};
use fairgig_store::{
    marketplace::{Job, Profile},
    pages::Page,
    Store, StoreError,
};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::candidates::{Built, OVERLAP};

/// German text is stemmed in German too (the analysis's language
/// detector); everything else in English alone. Only the detector's sample
/// of the body is copied, not the whole of it.
fn stemming_of(title: &str, body: &str) -> Stemming {
    let body = &body[..body.floor_char_boundary(fairgig_ai::analyse::STEMMING_SAMPLE)];
    if fairgig_ai::analyse::reads_german(&format!("{title}. {body}")) {
        Stemming::German
    } else {
        Stemming::English
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

impl Searchable for Page {
    fn key(&self) -> Uuid {
        self.id.as_uuid()
    }

    fn changed_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    /// Published and scheduled pages: a scheduled one becomes public by
    /// the clock, with no change to see, so the search drops those not yet
    /// due ([`crate::search::pages`]).
    fn listed(&self) -> bool {
        matches!(self.content.status, PageStatus::Published | PageStatus::Scheduled)
    }

    /// Title, summary and Markdown; tags as the filterable names; the
    /// locale in the region field, which is what the locale filter reads.
    fn document(&self) -> SearchDoc {
        let c = &self.content;
        SearchDoc {
            id: self.id.as_uuid(),
            title: c.title.clone(),
            body: format!("{}\n\n{}", c.summary, c.body),
            skills: c.tags.clone(),
            region: Some(self.locale.clone()),
            remote: false,
            price_minor: None,
            updated_unix: self.updated_at.unix_timestamp(),
            stemming: if self.locale == "de" { Stemming::German } else { Stemming::English },
        }
    }

    async fn changed_since(store: &Store, since: OffsetDateTime) -> Result<Vec<Self>, StoreError> {
        store.pages_changed_since(since).await
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
    /// The index's folder (`None`: in memory, rebuilt at each start).
    dir: Option<PathBuf>,
    /// Opened by the build.
    text: OnceLock<TextIndex>,
    /// `None` until built.
    caught_up: Mutex<Option<CaughtUp>>,
    kind: PhantomData<fn() -> E>,
}

/// The open jobs' index.
pub type JobSearch = TextSearch<Job>;
/// The index of freelancers open to work.
pub type ProfileSearch = TextSearch<Profile>;

/// The content service's published (and scheduled) pages.
pub type PageSearch = TextSearch<Page>;

/// Where the next look starts, and the change time of each entry applied:
/// an entry seen again inside the look-back overlap, unchanged, is not
/// indexed (and committed) again at every search.
struct CaughtUp {
    cursor: OffsetDateTime,
    seen: HashMap<Uuid, Seen>,
    /// Whether `seen` knows every indexed entry: true after a full build.
    /// An index reopened from its folder knows only its cursor, so an
    /// unknown entry that is no longer listed is removed to be sure.
    complete: bool,
    how: Built,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Seen {
    changed_at: OffsetDateTime,
    listed: bool,
}

/// Names what a commit's payload records; change it whenever what
/// [`Searchable::document`] indexes changes, so an older folder is rebuilt.
const CHECKPOINT_FORMAT: &str = "fairgig-search-1";

/// A commit's payload: the format and the cursor the index is current to.
fn checkpoint(cursor: OffsetDateTime) -> String {
    format!("{CHECKPOINT_FORMAT} {}", cursor.unix_timestamp_nanos())
}

/// The cursor of a payload of this format.
fn cursor_of(payload: &str) -> Option<OffsetDateTime> {
    let (format, nanos) = payload.split_once(' ')?;
    if format != CHECKPOINT_FORMAT {
        return None;
    }
    OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()
}

impl<E> std::fmt::Debug for TextSearch<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextSearch").field("dir", &self.dir).field("text", &self.text).finish()
    }
}

impl<E: Searchable> TextSearch<E> {
    /// An index kept in `dir` (`None`: in memory); nothing is opened
    /// before [`TextSearch::build`].
    pub fn new(dir: Option<PathBuf>) -> Arc<Self> {
        Arc::new(TextSearch {
            dir,
            text: OnceLock::new(),
            caught_up: Mutex::new(None),
            kind: PhantomData,
        })
    }

    /// Opens the index from its folder and catches up from the cursor of
    /// its last commit, or else indexes every listed entry (at start, in the
    /// background, or for the first search that cannot wait). Once built, a
    /// second call does nothing. Returns the entries indexed and how.
    pub async fn build(&self, store: &Store) -> anyhow::Result<(u64, Built)> {
        let mut guard = self.caught_up.lock().await;
        if let Some(caught_up) = guard.as_ref() {
            return Ok((self.len(), caught_up.how));
        }
        // Opened once: after a build that failed half way, build afresh.
        let (text, cursor) = match self.text.get() {
            Some(text) => (text, None),
            None => {
                let (opened, cursor) = self.open()?;
                (self.text.get_or_init(|| opened), cursor)
            }
        };
        let started = OffsetDateTime::now_utc();
        let mut caught_up = match cursor {
            Some(cursor) => {
                CaughtUp { cursor, seen: HashMap::new(), complete: false, how: Built::FromSnapshot }
            }
            None => {
                text.clear()?;
                CaughtUp {
                    cursor: OffsetDateTime::UNIX_EPOCH,
                    seen: HashMap::new(),
                    complete: true,
                    how: Built::Rebuilt,
                }
            }
        };
        let changed = E::changed_since(store, caught_up.cursor).await?;
        apply(text, &mut caught_up, changed)?;
        caught_up.cursor = started - OVERLAP;
        text.commit(&checkpoint(caught_up.cursor))?;
        let how = caught_up.how;
        *guard = Some(caught_up);
        Ok((text.len(), how))
    }

    /// The index in its folder with its last cursor, or a new one in
    /// memory when the folder cannot be used (another process writes it).
    fn open(&self) -> anyhow::Result<(TextIndex, Option<OffsetDateTime>)> {
        if let Some(dir) = &self.dir {
            match TextIndex::open(dir) {
                Ok(opened) => {
                    return Ok((opened.index, opened.payload.as_deref().and_then(cursor_of)))
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the search index is kept in memory instead")
                }
            }
        }
        Ok((TextIndex::in_memory()?, None))
    }

    /// Entries searchable now.
    pub fn len(&self) -> u64 {
        self.text.get().map_or(0, TextIndex::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies the entries changed since the last look; `None` before the
    /// build, else how many changed the index.
    pub async fn refresh(&self, store: &Store) -> anyhow::Result<Option<usize>> {
        let mut guard = self.caught_up.lock().await;
        let (Some(caught_up), Some(text)) = (guard.as_mut(), self.text.get()) else {
            return Ok(None);
        };
        let started = OffsetDateTime::now_utc();
        let changed = apply(text, caught_up, E::changed_since(store, caught_up.cursor).await?)?;
        let next = started - OVERLAP;
        if changed > 0 {
            text.commit(&checkpoint(next))?;
        }
        caught_up.cursor = next;
        Ok(Some(changed))
    }

    /// The best `depth` entries by words that pass the filters (none
    /// before the build).
    pub fn search(
        &self,
        text: &str,
        filters: &Filters,
        depth: usize,
    ) -> Result<Found, fairgig_search::SearchError> {
        match self.text.get() {
            Some(index) => index.search(text, filters, depth),
            None => Ok(Found::default()),
        }
    }
}

/// Indexes listed entries and drops the others, skipping rows seen before
/// with the same change time; returns how many changed the index (the
/// caller commits).
fn apply<E: Searchable>(
    text: &TextIndex,
    caught_up: &mut CaughtUp,
    entries: Vec<E>,
) -> anyhow::Result<usize> {
    let mut changed = 0;
    for entry in &entries {
        let id = entry.key();
        let seen = Seen { changed_at: entry.changed_at(), listed: entry.listed() };
        let before = caught_up.seen.get(&id).copied();
        if before.map(|b| b.changed_at) == Some(seen.changed_at) {
            continue;
        }
        if seen.listed {
            text.upsert(&entry.document())?;
        } else if before.is_some_and(|b| b.listed) || (before.is_none() && !caught_up.complete) {
            text.remove(id)?;
        } else {
            continue;
        }
        caught_up.seen.insert(id, seen);
        changed += 1;
    }
    Ok(changed)
}
