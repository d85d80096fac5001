//! Objects too big to hold: written as they are made (multipart uploads), JSON arrays
//! read as their bytes arrive.

use crate::adapters::json_array::{ArraySplitter, Stop};
use crate::adapters::s3::ReportStore;
use crate::error::StoreError;
use aws_sdk_s3::primitives::ByteStream;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Parts of a streamed upload are this big (S3 wants at least 5 MiB for all but the
/// last): what Summarize holds of the index while it writes it.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// An object written as it is made: its bytes go into [`Upload::buf`], and each
/// [`PART_BYTES`] of them to S3 as a part of a multipart upload. An object smaller than
/// one part is one PutObject at [`Upload::finish`]. A failed upload is aborted; one
/// left open by a crash is aborted by the bucket's lifecycle rule.
pub struct Upload<'a> {
    store: &'a ReportStore,
    key: String,
    content_type: &'static str,
    /// What is not uploaded yet.
    pub buf: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<aws_sdk_s3::types::CompletedPart>,
    bytes: u64,
}

impl ReportStore {
    /// A streamed upload to `key`.
    pub fn upload(&self, key: &str, content_type: &'static str) -> Upload<'_> {
        Upload {
            store: self,
            key: key.to_string(),
            content_type,
            buf: Vec::with_capacity(64 * 1024),
            upload_id: None,
            parts: Vec::new(),
            bytes: 0,
        }
    }
}

impl Upload<'_> {
    /// Uploads a part when [`Upload::buf`] holds one.
    pub async fn flush(&mut self) -> Result<(), StoreError> {
        if self.buf.len() >= self.store.part_bytes {
            self.send_part().await?;
        }
        Ok(())
    }

    async fn send_part(&mut self) -> Result<(), StoreError> {
        let store = self.store;
        let key = &self.key;
        let id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let out = store
                    .s3
                    .create_multipart_upload()
                    .bucket(&store.bucket)
                    .key(key)
                    .content_type(self.content_type)
                    .send()
                    .await
                    .map_err(|e| store.failed("CreateMultipartUpload", key, e))?;
                let id = out.upload_id.ok_or_else(|| StoreError::Request {
                    operation: "CreateMultipartUpload",
                    bucket: store.bucket.clone(),
                    key: key.clone(),
                    source: "the response has no UploadId".into(),
                })?;
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = self.parts.len() as i32 + 1;
        let body = std::mem::replace(&mut self.buf, Vec::with_capacity(64 * 1024));
        self.bytes += body.len() as u64;
        let out = store
            .s3
            .upload_part()
            .bucket(&store.bucket)
            .key(key)
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| store.failed("UploadPart", key, e))?;
        self.parts.push(
            aws_sdk_s3::types::CompletedPart::builder()
                .set_e_tag(out.e_tag)
                .part_number(number)
                .build(),
        );
        Ok(())
    }

    /// Writes what is left and makes the object; its size in bytes. On failure the
    /// upload is aborted.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        let Some(id) = self.upload_id.clone() else {
            let body = std::mem::take(&mut self.buf);
            let bytes = body.len() as u64;
            self.store
                .put_bytes(&self.key, body, self.content_type)
                .await?;
            return Ok(bytes);
        };
        let done = async {
            if !self.buf.is_empty() {
                self.send_part().await?;
            }
            let store = self.store;
            let parts = std::mem::take(&mut self.parts);
            store
                .s3
                .complete_multipart_upload()
                .bucket(&store.bucket)
                .key(&self.key)
                .upload_id(&id)
                .multipart_upload(
                    aws_sdk_s3::types::CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| store.failed("CompleteMultipartUpload", &self.key, e))?;
            Ok::<u64, StoreError>(self.bytes)
        }
        .await;
        if done.is_err() {
            self.abort().await;
        }
        done
    }

    /// Gives up: the parts sent are deleted (best effort: the lifecycle rule aborts what
    /// this could not).
    pub async fn abort(self) {
        let Some(id) = &self.upload_id else { return };
        let store = self.store;
        let aborted = store
            .s3
            .abort_multipart_upload()
            .bucket(&store.bucket)
            .key(&self.key)
            .upload_id(id)
            .send()
            .await;
        if let Err(e) = aborted {
            tracing::warn!(key = self.key, error = %aws_sdk_s3::error::DisplayErrorContext(&e), "could not abort the upload");
        }
    }
}

/// A JSON array written as it is made, one element a line, through an [`Upload`].
pub struct ArrayUpload<'a> {
    upload: Upload<'a>,
    /// Elements written.
    pub len: u64,
}

impl<'a> ArrayUpload<'a> {
    pub fn new(mut upload: Upload<'a>) -> Self {
        upload.buf.extend_from_slice(b"[");
        ArrayUpload { upload, len: 0 }
    }

    /// One more element.
    pub async fn push<T: Serialize>(&mut self, value: &T) -> Result<(), StoreError> {
        let buf = &mut self.upload.buf;
        buf.extend_from_slice(if self.len == 0 { b"\n" } else { b",\n" });
        serde_json::to_writer(&mut *buf, value).map_err(|source| StoreError::Encode {
            key: self.upload.key.clone(),
            source,
        })?;
        self.len += 1;
        self.upload.flush().await
    }

    pub async fn finish(mut self) -> Result<u64, StoreError> {
        self.upload.buf.extend_from_slice(b"\n]\n");
        self.upload.finish().await
    }

    pub async fn abort(self) {
        self.upload.abort().await
    }
}

/// The elements of a JSON array in S3, read as its bytes arrive: only the current chunk's
/// elements are held ([`ReportStore::read_array`]).
pub struct ArrayReader<T> {
    bucket: String,
    key: String,
    body: ByteStream,
    splitter: ArraySplitter,
    ready: std::collections::VecDeque<T>,
    ended: bool,
}

impl ReportStore {
    /// A reader of the JSON array at `key`; `None` when there is no such key.
    pub async fn read_array<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<ArrayReader<T>>, StoreError> {
        Ok(self.get_object(key).await?.map(|out| ArrayReader {
            bucket: self.bucket.clone(),
            key: key.to_string(),
            body: out.body,
            splitter: ArraySplitter::default(),
            ready: std::collections::VecDeque::new(),
            ended: false,
        }))
    }
}

impl<T: DeserializeOwned> ArrayReader<T> {
    fn decode(&self, source: serde_json::Error) -> StoreError {
        StoreError::Decode {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            source,
        }
    }

    /// The next element; `None` after the last.
    pub async fn next(&mut self) -> Result<Option<T>, StoreError> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Ok(Some(item));
            }
            if self.ended {
                return Ok(None);
            }
            let Some(chunk) = self.body.next().await else {
                self.ended = true;
                self.splitter
                    .end()
                    .map_err(|e| self.decode(serde::de::Error::custom(e)))?;
                continue;
            };
            let chunk = chunk.map_err(|source| StoreError::Read {
                key: self.key.clone(),
                source,
            })?;
            let ready = &mut self.ready;
            let fed = self.splitter.feed(&chunk, &mut |element: &[u8]| {
                ready.push_back(serde_json::from_slice(element)?);
                Ok::<(), serde_json::Error>(())
            });
            fed.map_err(|stop| match stop {
                Stop::Shape(e) => self.decode(serde::de::Error::custom(e)),
                Stop::Each(e) => self.decode(e),
            })?;
        }
    }
}
