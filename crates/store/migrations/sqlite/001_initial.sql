-- Shops and their credentials. Tokens and cipher are sealed (AES-256-GCM, `v1.<key id>.<data>`) with
-- associated data `shop:<app_key>:<shop_id>:<column>`, so a value copied to another row does not open.
CREATE TABLE shops (
    app_key                  TEXT    NOT NULL,
    shop_id                  TEXT    NOT NULL,
    region                   TEXT    NOT NULL,
    shop_name                TEXT,
    seller_type              TEXT,
    shop_code                TEXT,
    cipher_sealed            TEXT,
    access_token_sealed      TEXT    NOT NULL,
    access_token_expires_at  INTEGER NOT NULL, -- Unix seconds
    refresh_token_sealed     TEXT    NOT NULL,
    refresh_token_expires_at INTEGER NOT NULL, -- Unix seconds
    granted_scopes           TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    status                   TEXT    NOT NULL CHECK (status IN ('connected', 'deauthorized')),
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    PRIMARY KEY (app_key, shop_id)
);

CREATE TABLE product_mappings (
    shop_id             TEXT    NOT NULL,
    plenty_item_id      INTEGER NOT NULL,
    plenty_variation_id INTEGER NOT NULL,
    tiktok_product_id   TEXT,
    tiktok_sku_id       TEXT,
    seller_sku          TEXT,
    sync_status         TEXT    NOT NULL CHECK (sync_status IN ('pending', 'synced', 'error')),
    sync_error          TEXT,
    last_synced_at      INTEGER,
    audit_status        TEXT,
    audit_reasons       TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (shop_id, plenty_variation_id)
);
CREATE INDEX product_mappings_status ON product_mappings (shop_id, sync_status, plenty_variation_id);
CREATE INDEX product_mappings_tiktok_product ON product_mappings (shop_id, tiktok_product_id);

CREATE TABLE order_mappings (
    shop_id            TEXT    NOT NULL,
    tiktok_order_id    TEXT    NOT NULL,
    plenty_order_id    INTEGER,
    tiktok_status      TEXT,
    tiktok_update_time INTEGER,
    sync_status        TEXT    NOT NULL CHECK (sync_status IN ('pending', 'synced', 'error')),
    sync_error         TEXT,
    last_synced_at     INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (shop_id, tiktok_order_id)
);
CREATE INDEX order_mappings_status ON order_mappings (shop_id, sync_status, tiktok_order_id);

-- Webhook inbox: one row per `tts_notification_id`. A row is claimable when unprocessed and
-- `available_at_ms` has passed; a claim pushes `available_at_ms` to the lease end, so an expired
-- lease makes the row claimable again without any sweeper.
CREATE TABLE webhook_inbox (
    notification_id TEXT    NOT NULL PRIMARY KEY,
    shop_id         TEXT    NOT NULL,
    event_type      INTEGER NOT NULL,
    payload         BLOB    NOT NULL,
    received_at     INTEGER NOT NULL,
    processed_at    INTEGER,
    outcome         TEXT    CHECK (outcome IN ('done', 'given_up')), -- set with processed_at
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    lease_owner     TEXT,
    available_at_ms INTEGER NOT NULL
);
CREATE INDEX webhook_inbox_claimable ON webhook_inbox (available_at_ms) WHERE processed_at IS NULL;
CREATE INDEX webhook_inbox_processed ON webhook_inbox (processed_at) WHERE processed_at IS NOT NULL;

CREATE TABLE sync_cursors (
    shop_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    position   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, kind)
);

CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    phase       TEXT    NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    total       INTEGER,
    errors      INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    summary     TEXT -- JSON
);
CREATE INDEX sync_runs_shop ON sync_runs (shop_id, kind, id);

CREATE TABLE oauth_states (
    state       TEXT    NOT NULL PRIMARY KEY,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
);

-- Named leases, e.g. `sync:<shop>:<kind>`: one runner at a time, taken over once expired.
CREATE TABLE leases (
    name          TEXT    NOT NULL PRIMARY KEY,
    owner         TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
