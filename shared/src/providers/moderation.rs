//! The moderation decision on an uploaded photo, and who made it.
//!
//! The policy promises a moderation log of "the decision (allowed / blocked), the per-category
//! scores returned by the moderation model, and the photo URL"; a [`ModerationVerdict`] is
//! everything in that record except the URL, plus which model and provider decided and what
//! the check cannot see.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{LocalModerator, OpenAiClient, ProviderChoice, ProviderError};
use crate::config::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    Blocked,
}

/// Who produced a verdict, as written in the moderation log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProviderKind {
    #[serde(rename = "openai")]
    OpenAi,
    /// The development stand-in ([`LocalModerator`]): not a content check.
    #[serde(rename = "local-stand-in")]
    LocalStandIn,
}

/// One moderation decision, serialisable as it goes into the moderation log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModerationVerdict {
    pub decision: Decision,
    /// Every score the model returned, by category name (e.g. `sexual`, `violence/graphic`).
    pub scores: BTreeMap<String, f64>,
    /// The categories the model flagged, in name order.
    pub flagged_categories: Vec<String>,
    /// The model as the provider named it in its answer (e.g. `omni-moderation-2024-09-26`).
    pub model: String,
    pub provider: ProviderKind,
    /// What this check does not cover, recorded with the decision.
    pub limitation: Option<&'static str>,
}

/// The moderation provider of this deployment.
#[derive(Debug, Clone)]
pub enum Moderator {
    OpenAi(OpenAiClient),
    LocalStandIn(LocalModerator),
}

impl Moderator {
    /// The moderator `choice` names; OpenAI needs the process's client.
    pub fn new(choice: ProviderChoice, openai: Option<OpenAiClient>) -> Result<Self, ConfigError> {
        match (choice, openai) {
            (ProviderChoice::OpenAi, Some(client)) => Ok(Self::OpenAi(client)),
            (ProviderChoice::OpenAi, None) => Err(ConfigError::Missing("OPENAI_API_KEY")),
            (ProviderChoice::Local, _) => Ok(Self::LocalStandIn(LocalModerator)),
        }
    }

    pub fn provider(&self) -> ProviderKind {
        match self {
            Self::OpenAi(_) => ProviderKind::OpenAi,
            Self::LocalStandIn(_) => ProviderKind::LocalStandIn,
        }
    }

    /// Moderates one image (`content_type`: `image/png`, `image/jpeg` or `image/webp`).
    pub async fn moderate(
        &self,
        image: &[u8],
        content_type: &str,
    ) -> Result<ModerationVerdict, ProviderError> {
        match self {
            Self::OpenAi(client) => client.moderate_image(image, content_type).await,
            Self::LocalStandIn(local) => local.moderate(image, content_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_serialise_for_the_moderation_log() {
        let verdict = ModerationVerdict {
            decision: Decision::Blocked,
            scores: BTreeMap::from([("local-test-marker".to_owned(), 0.95)]),
            flagged_categories: vec!["local-test-marker".to_owned()],
            model: "local-stand-in".to_owned(),
            provider: ProviderKind::LocalStandIn,
            limitation: Some("not a content check"),
        };
        assert_eq!(
            serde_json::to_value(&verdict).unwrap(),
            serde_json::json!({
                "decision": "blocked",
                "scores": {"local-test-marker": 0.95},
                "flagged_categories": ["local-test-marker"],
                "model": "local-stand-in",
                "provider": "local-stand-in",
                "limitation": "not a content check",
            })
        );
        assert_eq!(
            serde_json::to_value(ProviderKind::OpenAi).unwrap(),
            "openai"
        );
        assert_eq!(serde_json::to_value(Decision::Allowed).unwrap(), "allowed");
    }

    #[test]
    fn openai_moderation_needs_the_client() {
        assert_eq!(
            Moderator::new(ProviderChoice::OpenAi, None).unwrap_err(),
            ConfigError::Missing("OPENAI_API_KEY")
        );
        let local = Moderator::new(ProviderChoice::Local, None).unwrap();
        assert_eq!(local.provider(), ProviderKind::LocalStandIn);
    }
}
