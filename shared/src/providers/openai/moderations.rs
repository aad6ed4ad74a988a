//! `POST /v1/moderations` with one image.
//!
//! Request (API reference "Create moderation"; `ModerationImageURLInput` in the spec):
//! `{"model": "omni-moderation-latest", "input": [{"type": "image_url", "image_url": {"url":
//! "data:image/jpeg;base64,…"}}]}`. Answer: `{"id", "model", "results": [{"flagged",
//! "categories": {name: bool}, "category_scores": {name: number},
//! "category_applied_input_types": {name: ["text"|"image"]}}]}`, one result per input.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::{Endpoint, OpenAiClient};
use crate::providers::moderation::{Decision, ModerationVerdict, ProviderKind};
use crate::providers::{ImageType, ProviderError};

/// What omni-moderation cannot see in an image, recorded with every OpenAI verdict. The
/// spec's `category_applied_input_types` lists `sexual/minors` (like `harassment`, `hate` and
/// `illicit`) for text only: images are scored for `sexual`, `self-harm` and `violence` and
/// their subcategories, so no score here speaks to minors in a photo.
pub const IMAGE_MODERATION_LIMITATION: &str = "omni-moderation does not score sexual/minors \
     for image inputs (that category applies to text only; harassment, hate and illicit are \
     text-only too); images are scored for sexual, self-harm and violence categories only";

#[derive(Debug, Serialize)]
struct ModerationRequest<'a> {
    model: &'a str,
    input: [ImageInput; 1],
}

#[derive(Debug, Serialize)]
struct ImageInput {
    #[serde(rename = "type")]
    kind: &'static str,
    image_url: ImageUrl,
}

#[derive(Debug, Serialize)]
struct ImageUrl {
    url: String,
}

#[derive(Debug, Deserialize)]
struct ModerationResponse {
    model: String,
    results: Vec<ModerationResult>,
}

#[derive(Debug, Deserialize)]
struct ModerationResult {
    flagged: bool,
    /// `illicit` and `illicit/violent` may be `null`, per the spec.
    categories: BTreeMap<String, Option<bool>>,
    category_scores: BTreeMap<String, f64>,
}

impl OpenAiClient {
    /// Moderates one image with OpenAI's moderation model; blocked when OpenAI flags it.
    pub async fn moderate_image(
        &self,
        image: &[u8],
        content_type: &str,
    ) -> Result<ModerationVerdict, ProviderError> {
        let image_type = ImageType::from_content_type(content_type)?;
        let model = self.config().moderation_model.as_str();
        let body = serde_json::to_vec(&ModerationRequest {
            model,
            input: [ImageInput {
                kind: "image_url",
                image_url: ImageUrl {
                    url: data_url(image, image_type),
                },
            }],
        })
        .map_err(|_| ProviderError::InvalidInput("the moderation request could not be encoded"))?;
        let answer = self
            .post(
                Endpoint::Moderations,
                model,
                self.config().moderation_timeout,
                |request| {
                    request
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                },
            )
            .await?;
        verdict_from_answer(&answer)
    }
}

fn data_url(image: &[u8], image_type: ImageType) -> String {
    format!(
        "data:{};base64,{}",
        image_type.content_type(),
        STANDARD.encode(image)
    )
}

fn verdict_from_answer(answer: &[u8]) -> Result<ModerationVerdict, ProviderError> {
    let response: ModerationResponse = serde_json::from_slice(answer)
        .map_err(|error| super::unparsable("moderation answer", &error))?;
    let Some(result) = response.results.into_iter().next() else {
        return Err(ProviderError::InvalidResponse(
            "moderation answer without results".to_owned(),
        ));
    };
    let flagged_categories = result
        .categories
        .into_iter()
        .filter(|(_, flagged)| *flagged == Some(true))
        .map(|(name, _)| name)
        .collect();
    Ok(ModerationVerdict {
        decision: if result.flagged {
            Decision::Blocked
        } else {
            Decision::Allowed
        },
        scores: result.category_scores,
        flagged_categories,
        model: response.model,
        provider: ProviderKind::OpenAi,
        limitation: Some(IMAGE_MODERATION_LIMITATION),
    })
}
