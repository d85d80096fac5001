//! STS: whether a member account's role can be assumed now. STS's refusal is the
//! account's answer (its role is missing or its trust refuses us, the account is
//! suspended or its Region disabled: the account is UNREACHABLE); anything else
//! (throttling, the network, the scanner's own credentials) is a failure to retry.
//! Told apart by STS's error code, read from the SDK's typed error, never from text.

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Why a role could not be assumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssumeError {
    /// STS refused: `code: message`, as STS said it.
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// Not a refusal; the SDK's error chain, for the caller to retry.
    #[error("{0}")]
    Failed(String),
}

/// The codes by which STS refuses a member account's role, rather than failing.
const REFUSALS: [&str; 2] = ["AccessDenied", "RegionDisabledException"];

/// Asks STS for `provider`'s credentials once.
pub async fn assume(provider: &AssumeRoleProvider) -> Result<(), AssumeError> {
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e) => Err(classify(&e)),
    }
}

/// STS's own error inside the credentials error, by its code.
fn classify(e: &CredentialsError) -> AssumeError {
    let sts = std::iter::successors(std::error::Error::source(e), |s| s.source())
        .find_map(|s| s.downcast_ref::<AssumeRoleError>());
    match sts.and_then(|s| Some((s.code()?, s.message().unwrap_or_default()))) {
        Some((code, message)) if REFUSALS.contains(&code) => AssumeError::Refused {
            code: code.to_string(),
            message: message.to_string(),
        },
        _ => AssumeError::Failed(DisplayErrorContext(e).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::error::ErrorMetadata;

    fn sts_error(code: &str, message: &str) -> CredentialsError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let err = AssumeRoleError::generic(meta);
        CredentialsError::provider_error(err)
    }

    #[test]
    fn refusals_are_told_by_code_with_sts_message() {
        let e = classify(&sts_error("AccessDenied", "User: x is not authorized"));
        assert_eq!(e.to_string(), "AccessDenied: User: x is not authorized");
        assert!(matches!(e, AssumeError::Refused { .. }));
        let e = classify(&sts_error(
            "RegionDisabledException",
            "STS is not activated",
        ));
        assert!(matches!(e, AssumeError::Refused { .. }), "{e}");
    }

    #[test]
    fn anything_else_is_a_failure_to_retry() {
        let e = classify(&sts_error(
            "InvalidClientTokenId",
            "The security token is invalid",
        ));
        assert!(matches!(e, AssumeError::Failed(_)), "{e}");
        assert!(e.to_string().contains("InvalidClientTokenId"), "{e}");
        let e = classify(&CredentialsError::provider_error("connection refused"));
        assert!(matches!(e, AssumeError::Failed(_)), "{e}");
    }
}
