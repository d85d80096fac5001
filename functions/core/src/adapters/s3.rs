//! The report bucket: JSON documents in, JSON documents out.

use crate::adapters::pages::{Pages, MAX_S3_PAGES};
use crate::error::StoreError;
use aws_sdk_s3::primitives::ByteStream;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The bucket's default encryption, as GetBucketEncryption answers it (`ila doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketEncryption {
    /// Each rule's algorithm (`AES256`, `aws:kms`, `aws:kms:dsse`) and KMS key, if any.
    Rules(Vec<(String, Option<String>)>),
    /// No default encryption (`ServerSideEncryptionConfigurationNotFoundError`).
    Unset,
    /// S3 refused to say (`AccessDenied`): `code: message`.
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct ReportStore {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    /// The page guard of [`ReportStore::list_keys`]: [`MAX_S3_PAGES`] unless a test
    /// lowers it.
    pub(crate) max_pages: usize,
    /// The part size of streamed uploads: [`PART_BYTES`](crate::adapters::streams::PART_BYTES)
    /// unless a test lowers it.
    pub(crate) part_bytes: usize,
}

impl ReportStore {
    /// A failed request about `key` (or a listing's prefix), the SDK's error kept.
    pub(crate) fn failed<E, R>(
        &self,
        operation: &'static str,
        key: &str,
        err: aws_sdk_s3::error::SdkError<E, R>,
    ) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        StoreError::Request {
            operation,
            bucket: self.bucket.clone(),
            key: key.to_string(),
            source: Box::new(err),
        }
    }

    pub fn new(s3: aws_sdk_s3::Client, bucket: String) -> Self {
        ReportStore {
            s3,
            bucket,
            max_pages: MAX_S3_PAGES,
            part_bytes: crate::adapters::streams::PART_BYTES,
        }
    }

    /// The same store with another part size for streamed uploads (S3 refuses parts
    /// under 5 MiB but the last: for tests on a stub).
    pub fn with_part_bytes(self, part_bytes: usize) -> Self {
        ReportStore { part_bytes, ..self }
    }

    /// The same store with another page guard for [`ReportStore::list_keys`].
    pub fn with_max_pages(self, max_pages: usize) -> Self {
        ReportStore { max_pages, ..self }
    }

    /// Stores `value` as one line of JSON (valid JSON and JSON Lines).
    #[tracing::instrument(skip(self, value))]
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let mut body = serde_json::to_vec(value).map_err(|source| StoreError::Encode {
            key: key.to_string(),
            source,
        })?;
        body.push(b'\n');
        self.put_bytes(key, body, "application/json").await
    }

    /// Stores `body` as it is, with its content type.
    #[tracing::instrument(skip(self, body))]
    pub async fn put_bytes(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.failed("PutObject", key, e))?;
        Ok(())
    }

    /// The JSON document at `key`; a missing key is a [`StoreError`] too.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<T, StoreError> {
        self.get_json_opt(key)
            .await?
            .ok_or_else(|| StoreError::NoSuchKey {
                bucket: self.bucket.clone(),
                key: key.to_string(),
            })
    }

    /// Like [`ReportStore::get_json`], but a missing key (`NoSuchKey`) is `Ok(None)`;
    /// every other failure stays a [`StoreError`].
    pub async fn get_json_opt<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(body) = self.get_body(key).await? else {
            return Ok(None);
        };
        // Parsed where the SDK put it (one copy into one buffer, no second).
        let bytes = body.into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Decode {
                bucket: self.bucket.clone(),
                key: key.to_string(),
                source,
            })
    }

    /// GetObject of `key`, its body not read yet; a missing key (`NoSuchKey`) is `Ok(None)`.
    pub(crate) async fn get_object(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StoreError> {
        let sent = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(out)),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(err) => Err(self.failed("GetObject", key, err)),
        }
    }

    /// The object at `key` as bytes; a missing key (`NoSuchKey`) is `Ok(None)`.
    pub async fn get_bytes_opt(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get_body(key).await?.map(|b| b.into_bytes().to_vec()))
    }

    /// The object's body, whole, as the SDK collected it.
    async fn get_body(
        &self,
        key: &str,
    ) -> Result<Option<aws_smithy_types::byte_stream::AggregatedBytes>, StoreError> {
        let Some(out) = self.get_object(key).await? else {
            return Ok(None);
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|source| StoreError::Read {
                key: key.to_string(),
                source,
            })?;
        Ok(Some(bytes))
    }

    /// Every key under `prefix`, in S3's (lexicographic) order, following every
    /// continuation token (at most [`MAX_S3_PAGES`] pages of up to 1000 keys; more is
    /// a [`StoreError`]).
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        const OPERATION: &str = "ListObjectsV2";
        let mut keys = Vec::new();
        let mut pages = Pages::s3(
            format!("{OPERATION} s3://{}/{prefix}", self.bucket),
            self.max_pages,
        );
        while let Some(page) = pages.next()? {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(page.marker)
                .send()
                .await
                .map_err(|e| self.failed(OPERATION, prefix, e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            pages.turn(
                out.is_truncated.unwrap_or(false),
                out.next_continuation_token,
            )?;
        }
        Ok(keys)
    }

    /// The bucket's default encryption; a refusal or no configuration is the answer,
    /// any other failure a [`StoreError`] (to retry). Told by S3's error code.
    pub async fn default_encryption(&self) -> Result<BucketEncryption, StoreError> {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        let sent = self
            .s3
            .get_bucket_encryption()
            .bucket(&self.bucket)
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(err) => {
                return match err.code() {
                    Some("ServerSideEncryptionConfigurationNotFoundError") => {
                        Ok(BucketEncryption::Unset)
                    }
                    Some(code @ ("AccessDenied" | "AllAccessDisabled")) => {
                        Ok(BucketEncryption::Refused(format!(
                            "{code}: {}",
                            err.message().unwrap_or_default()
                        )))
                    }
                    _ => Err(self.failed("GetBucketEncryption", "", err)),
                }
            }
        };
        let rules = out
            .server_side_encryption_configuration()
            .map(|c| c.rules())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.apply_server_side_encryption_by_default())
            .map(|d| {
                (
                    d.sse_algorithm().as_str().to_string(),
                    d.kms_master_key_id().map(str::to_string),
                )
            })
            .collect::<Vec<_>>();
        Ok(match rules.is_empty() {
            true => BucketEncryption::Unset,
            false => BucketEncryption::Rules(rules),
        })
    }
}
