//! Turning a selfie into deliverables: the style catalogue, the image work (stickers, speech
//! bubbles, bundles, the local stylizer) and the generation jobs.

pub mod imaging;
pub mod style;
