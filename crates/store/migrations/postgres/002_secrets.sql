-- Named secrets of the integration itself (e.g. the PlentyONE back-office session), sealed like the
-- shop tokens; the associated data is `secret:<name>`.
CREATE TABLE secrets (
    name       TEXT   NOT NULL PRIMARY KEY,
    sealed     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
