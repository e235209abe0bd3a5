-- "Helpful" votes on published reviews: one per user and review, revocable;
-- reviews of a profile are listed by how many found them helpful.
CREATE TABLE review_votes (
    review_id  BLOB NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    voter_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (review_id, voter_id)
);
