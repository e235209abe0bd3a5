-- Each shown list's freelancers by position, so an action in the hiring
-- funnel (a profile opened, an application, a shortlist, a hire, a rating)
-- is tied to the newest list that showed the freelancer, in the action's
-- own transaction. Backfilled from the lists' JSON.
CREATE TABLE match_list_items (
    match_list_id BLOB NOT NULL REFERENCES match_lists (id) ON DELETE CASCADE,
    freelancer_id BLOB NOT NULL,
    rank          INTEGER NOT NULL,
    PRIMARY KEY (match_list_id, freelancer_id)
);
CREATE INDEX match_list_items_freelancer ON match_list_items (freelancer_id);
CREATE INDEX match_lists_viewer ON match_lists (viewer_id, created_at);

INSERT OR IGNORE INTO match_list_items (match_list_id, freelancer_id, rank)
SELECT m.id, unhex(replace(item.value ->> '$.freelancer', '-', '')), item.value ->> '$.rank'
FROM match_lists m, json_each(m.items) AS item
WHERE item.value ->> '$.freelancer' IS NOT NULL AND item.value ->> '$.rank' IS NOT NULL;
