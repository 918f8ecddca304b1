//! TikTok Shop Open API (202309+, and legacy signing).
pub mod model;
