//! Email addresses, the transactional email templates, and sending through SES.

mod address;
pub mod mime;
mod sender;
pub mod templates;

pub use address::{EmailAddress, InvalidEmail, MAX_EMAIL_LEN};
pub use sender::{MailError, Mailer, Sender};
pub use templates::Email;
