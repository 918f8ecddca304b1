//! Integration tests of the store against real databases: a SQLite file and the PostgreSQL named by
//! `TIKTOK_SHOP_TEST_POSTGRES_URL` (PostgreSQL tests print a SKIPPED line and pass when it is unset).

mod common;
mod conformance;
mod crash;
mod multiprocess;
mod sealing;
