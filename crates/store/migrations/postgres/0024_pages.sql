-- The content service's pages. One row per locale of a page; the
-- translations of a page share a translation group. Every save is a
-- version (page_versions); the page row holds the current one, and its
-- version number is what a concurrent editor must name to save.
CREATE TABLE pages (
    id                UUID PRIMARY KEY NOT NULL,
    translation_group UUID NOT NULL,
    locale            TEXT NOT NULL,
    slug              TEXT NOT NULL,
    title             TEXT NOT NULL,
    summary           TEXT NOT NULL,
    body              TEXT NOT NULL,
    tags              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    publish_at        TIMESTAMPTZ,
    version           BIGINT NOT NULL,
    author            UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX pages_by_locale_slug ON pages (locale, slug);
CREATE UNIQUE INDEX pages_by_group_locale ON pages (translation_group, locale);
-- The search index catches up by change time.
CREATE INDEX pages_by_change ON pages (updated_at);

CREATE TABLE page_versions (
    page_id    UUID NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    slug       TEXT NOT NULL,
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    body       TEXT NOT NULL,
    tags       TEXT NOT NULL,
    status     TEXT NOT NULL,
    publish_at TIMESTAMPTZ,
    author     UUID REFERENCES users (id) ON DELETE SET NULL,
    message    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (page_id, version)
);

-- Who may write pages besides admins (a grant, not a fourth role: an
-- editor is also a client or freelancer, and the role column's check
-- cannot change in SQLite without rebuilding the users table).
CREATE TABLE page_editors (
    user_id    UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_at TIMESTAMPTZ NOT NULL
);
