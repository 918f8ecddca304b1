-- The oversell guard's data: units of PlentyONE variations held by TikTok orders that are not (yet)
-- in PlentyONE (PlentyONE reserves an order's stock itself once the order exists there). One row
-- per (order, variation); an order's rows are replaced as it changes and removed once it is in
-- PlentyONE or cancelled.
CREATE TABLE order_reservations (
    shop_id             TEXT   NOT NULL,
    tiktok_order_id     TEXT   NOT NULL,
    plenty_variation_id BIGINT NOT NULL,
    quantity            BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (shop_id, tiktok_order_id, plenty_variation_id)
);
CREATE INDEX order_reservations_variation ON order_reservations (shop_id, plenty_variation_id);
