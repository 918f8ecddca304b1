//! Typed request and response models of the TikTok Shop API (lenient: unknown fields ignored, ids as strings).
