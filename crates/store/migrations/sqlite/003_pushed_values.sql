-- What the stock and price push last sent per TikTok SKU (what TikTok holds), so that a restarted
-- worker does not send unchanged values again. `inventory` is JSON [{"warehouse_id","quantity"}]
-- sorted by warehouse; `inventory` / `price` are NULL until first sent.
CREATE TABLE pushed_values (
    shop_id       TEXT   NOT NULL,
    tiktok_sku_id TEXT   NOT NULL,
    inventory     TEXT,
    price         TEXT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (shop_id, tiktok_sku_id)
);
