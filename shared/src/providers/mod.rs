//! Outside services (OpenAI) behind small traits, with the local implementations used when
//! no keys are configured.
