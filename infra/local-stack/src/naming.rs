//! Physical names for the template's resources: `{prefix}{LogicalId}`, made valid for each
//! service. Tests give every run its own prefix so they can share one emulation, and a long
//! prefix must still yield valid, distinct names, so over-long names are cut and suffixed
//! with a hash of the full name.

/// A DynamoDB table name: 3-255 characters of `[a-zA-Z0-9_.-]`.
pub fn table_name(prefix: &str, logical_id: &str) -> String {
    let raw = format!("{prefix}{logical_id}");
    let clean = replace_invalid(&raw, |c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    pad_to_min(shorten(&clean, &raw, 255), 3)
}

/// An S3 bucket name: 3-63 characters of `[a-z0-9-]`, starting and ending with a letter or
/// digit. Dots are valid too but break virtual-host TLS names, so they are avoided.
pub fn bucket_name(prefix: &str, logical_id: &str) -> String {
    let raw = format!("{prefix}{logical_id}").to_ascii_lowercase();
    let clean = replace_invalid(&raw, |c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let trimmed = clean.trim_matches('-').to_owned();
    let short = shorten(&trimmed, &raw, 63);
    pad_to_min(short.trim_matches('-').to_owned(), 3)
}

/// An SQS queue name: up to 80 characters of `[a-zA-Z0-9_-]`, FIFO queues ending in `.fifo`
/// (which counts towards the 80).
pub fn queue_name(prefix: &str, logical_id: &str, fifo: bool) -> String {
    let raw = format!("{prefix}{logical_id}");
    let clean = replace_invalid(&raw, |c| c.is_ascii_alphanumeric() || "_-".contains(c));
    if fifo {
        format!("{}.fifo", shorten(&clean, &raw, 80 - ".fifo".len()))
    } else {
        shorten(&clean, &raw, 80)
    }
}

/// A Lambda function name: up to 64 characters of `[a-zA-Z0-9_-]`.
pub fn function_name(prefix: &str, logical_id: &str) -> String {
    let raw = format!("{prefix}{logical_id}");
    let clean = replace_invalid(&raw, |c| c.is_ascii_alphanumeric() || "_-".contains(c));
    shorten(&clean, &raw, 64)
}

fn replace_invalid(name: &str, valid: impl Fn(char) -> bool) -> String {
    name.chars()
        .map(|c| if valid(c) { c } else { '-' })
        .collect()
}

/// Cuts `name` to `max` characters, keeping it distinct by ending it with a hash of the
/// original (pre-cleaning) name. All inputs are ASCII after cleaning, so byte slicing is safe.
fn shorten(name: &str, original: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let hash = format!("{:08x}", fnv1a(original.as_bytes()));
    let keep = max - hash.len() - 1;
    format!("{}-{hash}", name[..keep].trim_end_matches(['-', '.']))
}

fn pad_to_min(mut name: String, min: usize) -> String {
    while name.len() < min {
        name.push('0');
    }
    name
}

/// FNV-1a (32 bit): a few lines instead of a hashing dependency; names only need to differ.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_prefix_plus_logical_id() {
        assert_eq!(
            table_name("anumi-local-", "OtpCodesTable"),
            "anumi-local-OtpCodesTable"
        );
        assert_eq!(
            bucket_name("anumi-local-", "AssetsBucket"),
            "anumi-local-assetsbucket"
        );
        assert_eq!(
            queue_name("anumi-local-", "Jobs", true),
            "anumi-local-Jobs.fifo"
        );
        assert_eq!(
            function_name("anumi-local-", "OtpFunction"),
            "anumi-local-OtpFunction"
        );
    }

    #[test]
    fn bucket_names_are_valid_and_distinct_when_long() {
        let prefix = "t-0f0e8a9c-5d2b-4e0b-9d57-3c1c2b9fa1b7-";
        let a = bucket_name(prefix, "AvatarUploadsBucketWithAVeryLongName");
        let b = bucket_name(prefix, "AvatarUploadsBucketWithAVeryLongNam2");
        assert!(a.len() <= 63, "{a}");
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert!(!a.starts_with('-') && !a.ends_with('-'));
    }

    #[test]
    fn invalid_characters_are_replaced() {
        assert_eq!(table_name("my prefix/", "T"), "my-prefix-T");
        assert_eq!(bucket_name("_x_", "B"), "x-b");
        assert_eq!(bucket_name("", "B"), "b00");
    }
}
