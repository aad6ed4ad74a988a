//! What people send to support: refund requests from the public refund form, and feedback
//! from the widget. Both are kept for support until the person's erasure request (the
//! policy gives them no shorter window; the lead list they are tied to has none either),
//! and both are found from the person through an index: refund requests by email, feedback
//! by wallet id and by the email given with it.

pub mod feedback;
pub mod refunds;

/// Counts characters, not bytes, so Japanese text gets the same room as English.
pub(crate) fn char_len(text: &str) -> usize {
    text.chars().count()
}
