//! The report bucket: JSON documents in, JSON documents out.

use crate::error::Error;
use aws_sdk_s3::primitives::ByteStream;
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct ReportStore {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

fn storage<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    what: String,
    err: aws_sdk_s3::error::SdkError<E, R>,
) -> Error {
    Error::Storage(format!(
        "{what}: {}",
        aws_sdk_s3::error::DisplayErrorContext(&err)
    ))
}

impl ReportStore {
    pub fn new(s3: aws_sdk_s3::Client, bucket: String) -> Self {
        ReportStore { s3, bucket }
    }

    /// Stores `value` as one line of JSON (valid JSON and JSON Lines).
    #[tracing::instrument(skip(self, value))]
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), Error> {
        let mut body = serde_json::to_vec(value)
            .map_err(|e| Error::Storage(format!("encoding {key}: {e}")))?;
        body.push(b'\n');
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| storage(format!("PutObject s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }

    /// The JSON document at `key`; a missing key is a `StorageError` too.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<T, Error> {
        self.get_json_opt(key).await?.ok_or_else(|| {
            Error::Storage(format!("GetObject s3://{}/{key}: NoSuchKey", self.bucket))
        })
    }

    /// Like [`ReportStore::get_json`], but a missing key (`NoSuchKey`) is `Ok(None)`;
    /// every other failure stays a `StorageError`.
    pub async fn get_json_opt<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let sent = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None)
            }
            Err(err) => return Err(storage(format!("GetObject s3://{}/{key}", self.bucket), err)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| Error::Storage(format!("reading {key}: {e}")))?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Storage(format!("decoding s3://{}/{key}: {e}", self.bucket)))
    }

    /// Every key under `prefix`, in S3's (lexicographic) order.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| storage(format!("ListObjectsV2 s3://{}/{prefix}", self.bucket), e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            token = out.next_continuation_token.clone();
            if !out.is_truncated.unwrap_or(false) || token.is_none() {
                return Ok(keys);
            }
        }
    }
}
