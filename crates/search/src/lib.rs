//! Full-text search for the marketplace, and fusing its ranking with the
//! vector index's.
//!
//! - [`TextIndex`]: a tantivy index of [`SearchDoc`]s: BM25 over title,
//!   skills and body (English stemming, and German stemming too for a
//!   German document; title ×3 and skills ×2 boosts),
//!   typo-tolerant skill names (edit distance 1), hard filters inside the
//!   query (skills, region or remote, price range, changed since), and the
//!   matched words of each hit's body as highlight ranges.
//! - [`reciprocal_rank_fusion`]: one ranking from several (BM25 and vector
//!   search), by Cormack et al.'s RRF, which needs no score calibration.
//!
//! Why tantivy: BM25, stemming, fuzzy terms and snippets are solved
//! problems; what is fairgig's own is which fields count and how the two
//! rankings are fused. The index lives in a folder ([`TextIndex::open`]):
//! every commit is durable and carries a caller's payload (the engine's
//! change cursor), so a restart continues from the last commit instead of
//! re-indexing everything. [`TextIndex::in_memory`] serves where no folder
//! can be used (tests, and a process whose folder another one writes).

use std::{collections::HashMap, ops::Bound, ops::Range, path::Path, sync::Mutex};

use tantivy::{
    collector::{Count, TopDocs},
    query::{
        BooleanQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, QueryParser, RangeQuery,
        TermQuery,
    },
    schema::{
        Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED,
        STORED, STRING,
    },
    snippet::SnippetGenerator,
    tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer},
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
};
use uuid::Uuid;

/// Memory the single writer may buffer before flushing a segment.
const WRITER_BYTES: usize = 50_000_000;
/// Boosts: a word in the title counts three times one in the body, a
/// skill name twice.
const TITLE_BOOST: f32 = 3.0;
const SKILLS_BOOST: f32 = 2.0;
/// Characters of body text around the matched words in a highlight.
const HIGHLIGHT_CHARS: usize = 200;
/// Reciprocal rank fusion's constant (the paper's 60).
pub const RRF_K: f64 = 60.0;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: a lock was poisoned")]
    Poisoned,
    #[error("search index folder {path}: {reason}")]
    Folder { path: std::path::PathBuf, reason: String },
}

/// Which stemmer a document's words get besides English's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stemming {
    #[default]
    English,
    /// Also indexed with the German stemmer ("Rohre" finds "Rohr").
    German,
}

/// The German stemming analyzer's name.
const DE_STEM: &str = "de_stem";

/// One searchable thing (a job or a profile), as the index sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchDoc {
    /// The language its text is written in, as far as stemming goes.
    pub stemming: Stemming,
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub skills: Vec<String>,
    /// A region code (`DE`, `US-CA`); `None` with `remote` means anywhere.
    pub region: Option<String>,
    pub remote: bool,
    /// A budget or rate in minor units, for range filters.
    pub price_minor: Option<i64>,
    /// Seconds since the Unix epoch of the last change.
    pub updated_unix: i64,
}

/// Hard filters: a document failing one is not a hit, whatever its score.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Every one of these skills (case-insensitive, exact names).
    pub skills: Vec<String>,
    /// In this region, or remote.
    pub region: Option<String>,
    pub remote_only: bool,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    /// Changed at or after this Unix time.
    pub since_unix: Option<i64>,
}

/// A hit: the document's id, its BM25 score, and where its body matched.
#[derive(Clone, Debug, PartialEq)]
pub struct TextHit {
    pub id: Uuid,
    pub score: f32,
    pub highlight: Highlight,
}

/// A fragment of the body around the matched words, and the byte ranges
/// of those words inside it (empty when only title or skills matched).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Highlight {
    pub fragment: String,
    pub ranges: Vec<Range<usize>>,
}

/// What a search found: the best hits in order, and how many matched.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub hits: Vec<TextHit>,
    pub total: usize,
}

#[derive(Clone, Copy, Debug)]
struct Fields {
    id: Field,
    title: Field,
    body: Field,
    skills_text: Field,
    /// Title and body with the German stemmer, for German documents only.
    title_de: Field,
    body_de: Field,
    skill: Field,
    region: Field,
    remote: Field,
    price: Field,
    updated: Field,
}

/// The full-text index. Writes go through one writer and become visible
/// at [`TextIndex::commit`]; searches read the last commit.
pub struct TextIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    fields: Fields,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex").field("documents", &self.len()).finish()
    }
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let stemmed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let german = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(DE_STEM)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        title: builder.add_text_field("title", stemmed.clone()),
        body: builder.add_text_field("body", stemmed.clone() | STORED),
        skills_text: builder.add_text_field("skills_text", stemmed),
        title_de: builder.add_text_field("title_de", german.clone()),
        body_de: builder.add_text_field("body_de", german),
        // Exact, lower-cased names: filters and typo-tolerant matching.
        skill: builder.add_text_field("skill", STRING),
        region: builder.add_text_field("region", STRING),
        remote: builder.add_u64_field("remote", INDEXED | FAST),
        price: builder.add_i64_field("price", INDEXED | FAST),
        updated: builder.add_i64_field("updated", INDEXED | FAST),
    };
    (builder.build(), fields)
}

/// An index opened from its folder, and the payload of its last commit
/// (`None` when the folder held no usable index and it starts empty).
#[derive(Debug)]
pub struct Opened {
    pub index: TextIndex,
    pub payload: Option<String>,
}

impl TextIndex {
    /// An empty index in memory.
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, _) = schema();
        Self::serving(Index::create_in_ram(schema))
    }

    /// The index in `dir`, as of its last commit; a folder without one, or
    /// with one of another schema or unreadable, is emptied and the index
    /// starts empty (the caller rebuilds). Fails when the folder cannot be
    /// made or another process writes the index there.
    pub fn open(dir: &Path) -> Result<Opened, SearchError> {
        let folder = |err: &dyn std::fmt::Display| SearchError::Folder {
            path: dir.to_path_buf(),
            reason: err.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|err| folder(&err))?;
        let (schema, _) = schema();
        let existing = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|err| folder(&err))
            .and_then(|directory| Ok(Index::open_or_create(directory, schema.clone())?))
            .and_then(|index| {
                let payload = index.load_metas()?.payload;
                Ok((index, payload))
            });
        let (index, payload) = match existing {
            Ok((index, payload)) => (index, payload),
            Err(err) => {
                tracing::info!(error = %err, dir = %dir.display(), "no usable search index; starting empty");
                std::fs::remove_dir_all(dir).map_err(|err| folder(&err))?;
                std::fs::create_dir_all(dir).map_err(|err| folder(&err))?;
                (Index::create_in_dir(dir, schema)?, None)
            }
        };
        Ok(Opened { index: Self::serving(index)?, payload })
    }

    /// `index` with fairgig's analyzers, its one writer and a reader.
    fn serving(index: Index) -> Result<Self, SearchError> {
        let (_, fields) = schema();
        index.tokenizers().register(
            DE_STEM,
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(tantivy::tokenizer::Language::German))
                .build(),
        );
        let writer = index.writer(WRITER_BYTES)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(TextIndex { index, reader, writer: Mutex::new(writer), fields })
    }

    /// Documents searchable now (as of the last commit).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `doc`, replacing any earlier version with the same id.
    pub fn upsert(&self, doc: &SearchDoc) -> Result<(), SearchError> {
        let f = self.fields;
        let mut document = TantivyDocument::default();
        document.add_text(f.id, doc.id.to_string());
        document.add_text(f.title, &doc.title);
        document.add_text(f.body, &doc.body);
        document.add_text(f.skills_text, doc.skills.join(", "));
        if doc.stemming == Stemming::German {
            document.add_text(f.title_de, &doc.title);
            document.add_text(f.body_de, &doc.body);
        }
        for skill in &doc.skills {
            document.add_text(f.skill, skill.trim().to_lowercase());
        }
        if let Some(region) = &doc.region {
            document.add_text(f.region, region.trim().to_uppercase());
        }
        document.add_u64(f.remote, u64::from(doc.remote));
        if let Some(price) = doc.price_minor {
            document.add_i64(f.price, price);
        }
        document.add_i64(f.updated, doc.updated_unix);
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_term(Term::from_field_text(f.id, &doc.id.to_string()));
        writer.add_document(document)?;
        Ok(())
    }

    pub fn remove(&self, id: Uuid) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
        Ok(())
    }

    /// Removes every document (at the next commit).
    pub fn clear(&self) -> Result<(), SearchError> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)?.delete_all_documents()?;
        Ok(())
    }

    /// Makes every write so far searchable (and, on disk, durable), with
    /// `payload` recorded beside it: what [`TextIndex::open`] hands back.
    pub fn commit(&self, payload: &str) -> Result<(), SearchError> {
        {
            let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(payload);
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// The best `limit` documents for `text` (every document when `text`
    /// is blank, newest first) that pass `filters`. Query syntax a user did
    /// not mean (unbalanced quotes, stray colons) is read leniently.
    pub fn search(
        &self,
        text: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Found, SearchError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let text = text.trim();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self.filter_clauses(filters);
        let words = if text.is_empty() { None } else { Some(self.words_query(text)) };
        if let Some(words) = &words {
            clauses.push((Occur::Must, words.box_clone()));
        }
        if clauses.iter().all(|(occur, _)| *occur != Occur::Must) {
            clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
        }
        let query = BooleanQuery::new(clauses);
        let limit = limit.max(1);
        let (top, total) = if words.is_some() {
            searcher.search(&query, &(TopDocs::with_limit(limit).order_by_score(), Count))?
        } else {
            let newest = TopDocs::with_limit(limit)
                .order_by_fast_field::<i64>("updated", tantivy::Order::Desc);
            let (top, total) = searcher.search(&query, &(newest, Count))?;
            (top.into_iter().map(|(_, address)| (0.0, address)).collect(), total)
        };
        let snippets = match &words {
            Some(words) => {
                let mut generator = SnippetGenerator::create(&searcher, words.as_ref(), f.body)?;
                generator.set_max_num_chars(HIGHLIGHT_CHARS);
                Some(generator)
            }
            None => None,
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            let Some(id) = document
                .get_first(f.id)
                .and_then(|value| value.as_str())
                .and_then(|id| Uuid::parse_str(id).ok())
            else {
                continue;
            };
            let highlight = match &snippets {
                Some(generator) => {
                    let snippet = generator.snippet_from_doc(&document);
                    Highlight {
                        fragment: snippet.fragment().to_owned(),
                        ranges: snippet.highlighted().to_vec(),
                    }
                }
                None => Highlight::default(),
            };
            hits.push(TextHit { id, score, highlight });
        }
        Ok(Found { hits, total })
    }

    /// Title, skills and body by BM25 with boosts, OR a skill name within
    /// one edit of a typed word (so "postgre" or "pyhton" still find).
    fn words_query(&self, text: &str) -> Box<dyn Query> {
        let f = self.fields;
        let fields = vec![f.title, f.skills_text, f.body, f.title_de, f.body_de];
        let mut parser = QueryParser::for_index(&self.index, fields);
        parser.set_field_boost(f.title, TITLE_BOOST);
        parser.set_field_boost(f.title_de, TITLE_BOOST);
        parser.set_field_boost(f.skills_text, SKILLS_BOOST);
        let (parsed, _ignored) = parser.parse_query_lenient(text);
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, parsed)];
        for word in text.split(|c: char| !c.is_alphanumeric() && c != '+' && c != '#') {
            let word = word.to_lowercase();
            if word.chars().count() >= 4 {
                let term = Term::from_field_text(f.skill, &word);
                alternatives.push((Occur::Should, Box::new(FuzzyTermQuery::new(term, 1, true))));
            }
        }
        Box::new(BooleanQuery::new(alternatives))
    }

    /// Each filter as a clause that must match and adds nothing to the score.
    fn filter_clauses(&self, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
        self.filters(filters)
            .into_iter()
            .map(|query| -> (Occur, Box<dyn Query>) {
                (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
            })
            .collect()
    }

    fn filters(&self, filters: &Filters) -> Vec<Box<dyn Query>> {
        let f = self.fields;
        let exact = |field: Field, value: String| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, &value), IndexRecordOption::Basic))
        };
        let mut clauses: Vec<Box<dyn Query>> = Vec::new();
        for skill in &filters.skills {
            clauses.push(exact(f.skill, skill.trim().to_lowercase()));
        }
        let remote = || -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_u64(f.remote, 1), IndexRecordOption::Basic))
        };
        if filters.remote_only {
            clauses.push(remote());
        }
        if let Some(region) = filters.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            let either = BooleanQuery::new(vec![
                (Occur::Should, exact(f.region, region.to_uppercase())),
                (Occur::Should, remote()),
            ]);
            clauses.push(Box::new(either));
        }
        if filters.price_min.is_some() || filters.price_max.is_some() {
            let bound = |value: Option<i64>, inclusive: fn(Term) -> Bound<Term>| match value {
                Some(value) => inclusive(Term::from_field_i64(f.price, value)),
                None => Bound::Unbounded,
            };
            let range = RangeQuery::new(
                bound(filters.price_min, Bound::Included),
                bound(filters.price_max, Bound::Included),
            );
            clauses.push(Box::new(range));
        }
        if let Some(since) = filters.since_unix {
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_i64(f.updated, since)),
                Bound::Unbounded,
            );
            clauses.push(Box::new(range));
        }
        clauses
    }
}

/// Fuses rankings (best first) into one: an id scores Σ w / (k + rank)
/// over the rankings it is in (ranks from 1, `w` the ranking's weight).
/// Ties keep the order of first appearance.
pub fn reciprocal_rank_fusion(rankings: &[(&[Uuid], f64)], k: f64) -> Vec<(Uuid, f64)> {
    let mut scores: HashMap<Uuid, (f64, usize)> = HashMap::new();
    let mut order = 0;
    for (ranking, weight) in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            let entry = scores.entry(*id).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            entry.0 += weight / (k + rank as f64 + 1.0);
        }
    }
    let mut fused: Vec<(Uuid, f64, usize)> =
        scores.into_iter().map(|(id, (score, first))| (id, score, first)).collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    fused.into_iter().map(|(id, score, _)| (id, score)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: u128, title: &str, body: &str, skills: &[&str]) -> SearchDoc {
        SearchDoc {
            id: Uuid::from_u128(n),
            title: title.into(),
            body: body.into(),
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            region: Some("DE".into()),
            remote: false,
            price_minor: Some(n as i64 * 1000),
            updated_unix: n as i64,
            stemming: Stemming::English,
        }
    }

    #[test]
    fn a_german_document_is_stemmed_in_german_too() {
        let mut german = doc(1, "Renovierung", "Wir renovieren zwei alte Häuser am See.", &[]);
        german.stemming = Stemming::German;
        let english = doc(2, "Renovation", "We renovate two old houses by the lake.", &[]);
        let found = index(&[german.clone(), english]).search("Haus", &Filters::default(), 10);
        let ids: Vec<Uuid> = found.expect("search").hits.iter().map(|hit| hit.id).collect();
        assert_eq!(ids, [Uuid::from_u128(1)], "Häuser is a form of Haus");
        german.stemming = Stemming::English;
        let found = index(&[german]).search("Haus", &Filters::default(), 10).expect("search");
        assert!(found.hits.is_empty(), "the English stemmer does not know it");
    }

    fn index(docs: &[SearchDoc]) -> TextIndex {
        let index = TextIndex::in_memory().expect("index");
        for doc in docs {
            index.upsert(doc).expect("add");
        }
        index.commit("").expect("commit");
        index
    }

    fn ids(found: &Found) -> Vec<u128> {
        found.hits.iter().map(|hit| hit.id.as_u128()).collect()
    }

    #[test]
    fn titles_outrank_bodies_and_stemming_finds_word_forms() {
        let index = index(&[
            doc(1, "Kitchen renovation", "We also need plumbing for the sink.", &["tiling"]),
            doc(2, "Plumber for a bathroom", "Replace pipes and a boiler.", &["plumbing"]),
            doc(3, "Logo design", "A logo for a bakery.", &["graphic design"]),
        ]);
        let found = index.search("plumbing", &Filters::default(), 10).expect("search");
        assert_eq!(ids(&found), [2, 1], "the title and skill match first");
        assert_eq!(found.total, 2);
        let stemmed = index.search("replacing pipe", &Filters::default(), 10).expect("search");
        assert_eq!(ids(&stemmed), [2]);
        let hit = &stemmed.hits[0];
        let marked: Vec<&str> =
            hit.highlight.ranges.iter().map(|r| &hit.highlight.fragment[r.clone()]).collect();
        assert_eq!(marked, ["Replace", "pipes"]);
    }

    #[test]
    fn a_misspelt_skill_still_finds_and_filters_cut_hard() {
        let mut remote = doc(4, "Data pipelines", "ETL work.", &["postgresql", "python"]);
        remote.remote = true;
        remote.region = None;
        let index = index(&[
            doc(1, "Database tuning", "Slow queries.", &["postgresql"]),
            doc(2, "Web shop", "A small shop.", &["python"]),
            remote,
        ]);
        let typo = index.search("postgresq", &Filters::default(), 10).expect("search");
        assert_eq!(
            {
                let mut v = ids(&typo);
                v.sort();
                v
            },
            [1, 4]
        );
        let both =
            Filters { skills: vec!["PostgreSQL".into(), "python".into()], ..Filters::default() };
        assert_eq!(ids(&index.search("", &both, 10).expect("search")), [4]);
        let in_fr = Filters { region: Some("fr".into()), ..Filters::default() };
        assert_eq!(
            ids(&index.search("", &in_fr, 10).expect("search")),
            [4],
            "remote fits anywhere"
        );
        let cheap = Filters { price_max: Some(2000), ..Filters::default() };
        assert_eq!(ids(&index.search("", &cheap, 10).expect("search")), [2, 1], "newest first");
        let recent = Filters { since_unix: Some(2), ..Filters::default() };
        assert_eq!(ids(&index.search("", &recent, 10).expect("search")), [4, 2]);
    }

    #[test]
    fn documents_are_replaced_and_removed_and_garbage_queries_do_not_fail() {
        let index = index(&[doc(1, "Old title", "text", &[])]);
        index.upsert(&doc(1, "New title", "text", &[])).expect("replace");
        index.commit("").expect("commit");
        assert_eq!(index.len(), 1);
        assert!(index.search("old", &Filters::default(), 10).expect("search").hits.is_empty());
        assert_eq!(ids(&index.search("new", &Filters::default(), 10).expect("search")), [1]);
        for garbage in ["\"unbalanced", "title:", "((", "a AND", "*", "\u{0}", "🦀 -"] {
            index.search(garbage, &Filters::default(), 10).expect("lenient");
        }
        index.remove(Uuid::from_u128(1)).expect("remove");
        index.commit("").expect("commit");
        assert!(index.is_empty());
    }

    #[test]
    fn an_index_on_disk_reopens_as_last_committed_and_garbage_starts_empty() {
        let dir = tempfile::tempdir().expect("dir");
        let folder = dir.path().join("jobs");
        {
            let opened = TextIndex::open(&folder).expect("open");
            assert_eq!(opened.payload, None, "a new folder");
            opened.index.upsert(&doc(1, "Plumber", "pipes", &[])).expect("add");
            opened.index.commit("cursor 1").expect("commit");
            opened.index.upsert(&doc(2, "Painter", "walls", &[])).expect("add, not committed");
        }
        let opened = TextIndex::open(&folder).expect("reopen");
        assert_eq!(opened.payload.as_deref(), Some("cursor 1"));
        assert_eq!(
            ids(&opened.index.search("plumber", &Filters::default(), 10).expect("search")),
            [1]
        );
        assert_eq!(opened.index.len(), 1, "what was not committed is not there");
        let busy = TextIndex::open(&folder);
        assert!(matches!(busy, Err(SearchError::Index(_))), "one writer per folder");
        drop(opened);
        std::fs::write(folder.join("meta.json"), b"{ not an index").expect("garble");
        let opened = TextIndex::open(&folder).expect("reopen over garbage");
        assert_eq!(opened.payload, None);
        assert!(opened.index.is_empty());
    }

    #[test]
    fn fusion_rewards_agreement_and_keeps_single_list_items() {
        let [a, b, c, d] = [1, 2, 3, 4].map(Uuid::from_u128);
        let fused = reciprocal_rank_fusion(&[(&[a, b, c], 1.0), (&[b, d, a], 1.0)], RRF_K);
        let order: Vec<Uuid> = fused.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [b, a, d, c], "both lists' b first; then a; d before c at equal ranks");
        assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-12);
        assert!(reciprocal_rank_fusion(&[], RRF_K).is_empty());
        let leaning = reciprocal_rank_fusion(&[(&[a, c], 1.0), (&[c, a], 2.0)], RRF_K);
        assert_eq!(leaning[0].0, c, "the heavier ranking's first wins a tie of ranks");
    }
}
