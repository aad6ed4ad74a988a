use secrecy::SecretString;

use crate::config::{ConfigError, EnvSource, Origin, Settings};

#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub app_origin: Origin,
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`: who email comes from, where a person writes back.
    pub email_from: crate::email::Sender,
    pub wallets_table: String,
    /// `LEDGER_TABLE`: every credit change is recorded there.
    pub ledger_table: String,
    pub generations_table: String,
    pub selfie_bucket: String,
    pub generated_bucket: String,
    /// Free trials: where a trial's saved email is, and the key of its link.
    pub trials_table: String,
    pub trial_link_secret: SecretString,
    /// `JOB_MAX_RECEIVE_COUNT`: the generation queue's `maxReceiveCount`; the delivery with
    /// this count is the last one, so it fails the job and returns the credits.
    pub max_receive_count: i64,
}

impl DeliveryConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            app_origin: settings.parsed("APP_ORIGIN")?,
            email_from: crate::email::Sender::from_env(source)?,
            wallets_table: settings.required("WALLETS_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            generated_bucket: settings.required("GENERATED_BUCKET")?,
            trials_table: settings.required("TRIALS_TABLE")?,
            trial_link_secret: settings.secret("TRIAL_LINK_SECRET", 32)?,
            max_receive_count: settings.parsed_or("JOB_MAX_RECEIVE_COUNT", 4)?,
        })
    }
}
