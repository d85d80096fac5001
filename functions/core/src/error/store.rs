//! The report bucket: S3 failed to read, write or list, or a document did not encode
//! or decode.

use crate::error::{BoxError, PageError};
use aws_sdk_s3::error::DisplayErrorContext;

/// What went wrong with the report bucket. Each message names the operation and the
/// `s3://bucket/key` (or the key) it was about.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An S3 request failed; the SDK's error is the source, and its whole chain is in
    /// the message.
    #[error(
        "S3 call failed: {operation} s3://{bucket}/{key}: {}",
        DisplayErrorContext(.source.as_ref())
    )]
    Request {
        operation: &'static str,
        bucket: String,
        /// The object's key, or the prefix a listing was about.
        key: String,
        #[source]
        source: BoxError,
    },
    /// A document that must exist does not.
    #[error("S3 call failed: GetObject s3://{bucket}/{key}: NoSuchKey")]
    NoSuchKey { bucket: String, key: String },
    /// Reading an object's body broke off.
    #[error("S3 call failed: reading {key}: {source}")]
    Read {
        key: String,
        #[source]
        source: aws_smithy_types::byte_stream::error::Error,
    },
    /// A value did not encode as JSON.
    #[error("S3 call failed: encoding {key}: {source}")]
    Encode {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// A stored document is not the JSON we expect.
    #[error("S3 call failed: decoding s3://{bucket}/{key}: {source}")]
    Decode {
        bucket: String,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// A listing broke the pagination protocol.
    #[error("S3 call failed: {0}")]
    Paging(#[from] PageError),
}
