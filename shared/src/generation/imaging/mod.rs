//! Pure image work, no I/O: checking uploaded selfies, the local stylizer, die-cut
//! stickers, speech bubbles and the zip bundle of deliverables.
//!
//! Everything here runs on decoded pixels in memory and is deterministic, so the same
//! input gives the same bytes (tests and idempotent job retries rely on that).

pub mod bubble;
pub mod bundle;
pub mod charset;
mod compose;
pub mod inspect;
pub mod sticker;
pub mod stylize;

pub use bubble::{Quote, QuoteError, add_speech_bubble};
pub use bundle::{BundleError, Deliverable, bundle_zip, encode_png};
pub use inspect::{ImageCheckError, ImageInfo, ImageKind, decode_selfie, inspect_image};
pub use sticker::{die_cut_sticker, with_mask};
pub use stylize::{AVATAR_SIZE, Stylized, portrait_mask, stylize};
