//! Email addresses, the transactional email templates, the app pages their links open, and
//! sending through SES.

mod address;
pub mod links;
pub mod mime;
mod sender;
pub mod templates;

pub use address::{EmailAddress, InvalidEmail, MAX_EMAIL_LEN};
pub use links::AppPage;
pub use sender::{MailError, Mailer, Sender};
pub use templates::Email;
