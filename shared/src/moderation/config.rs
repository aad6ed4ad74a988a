use crate::config::{ConfigError, EnvSource, Origin, Settings};

#[derive(Clone, Debug)]
pub struct ModerationConfig {
    pub wallets_table: String,
    /// `LEDGER_TABLE`: every credit change is recorded there.
    pub ledger_table: String,
    pub generations_table: String,
    pub moderation_log_table: String,
    pub selfie_bucket: String,
    pub generation_queue_url: String,
    /// `MAX_UPLOAD_BYTES`, default 10 MiB: the presigned PUT already binds the length; this
    /// guards against objects that arrive another way.
    pub max_upload_bytes: i64,
    /// `EVENT_MAX_RECEIVE_COUNT`: the selfie queue's `maxReceiveCount`; its last delivery
    /// returns the credits when moderation stayed unavailable.
    pub max_receive_count: i64,
    /// The "held for review" email: a trial's saved address, the sender, the link's origin.
    pub trials_table: String,
    pub email_from: crate::email::Sender,
    pub app_origin: Origin,
}

impl ModerationConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            wallets_table: settings.required("WALLETS_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            moderation_log_table: settings.required("MODERATION_LOG_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            generation_queue_url: settings.required("GENERATION_QUEUE_URL")?,
            max_upload_bytes: settings.parsed_or("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)?,
            max_receive_count: settings.parsed_or("EVENT_MAX_RECEIVE_COUNT", 5)?,
            trials_table: settings.required("TRIALS_TABLE")?,
            email_from: crate::email::Sender::from_env(source)?,
            app_origin: settings.parsed("APP_ORIGIN")?,
        })
    }
}
