-- Exposure owed and given per fairness group and day, summed over the match
-- lists shown (amortised fairness): the deficit over a window corrects the
-- next list's target. Day buckets keep the upsert a plain addition.
CREATE TABLE fairness_exposure (
    attribute  TEXT NOT NULL,
    group_name TEXT NOT NULL,
    day        TEXT NOT NULL,
    owed       REAL NOT NULL DEFAULT 0,
    given      REAL NOT NULL DEFAULT 0,
    lists      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (attribute, group_name, day)
);
