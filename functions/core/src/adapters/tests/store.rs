//! The report store: S3 reads, writes and listings.

use crate::adapters::pages::MAX_S3_PAGES;
use crate::adapters::s3::ReportStore;
use crate::adapters::tests::{failure, marker_after, page_of};
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_sdk_s3::types::Object;
use aws_sdk_s3::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

fn store(rules: &[&Rule]) -> ReportStore {
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |c| c.retry_config(
        aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(1)
    ));
    ReportStore::new(s3, "reports".into())
}

fn s3_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>r</RequestId></Error>"
    )
}

fn keys_page(page: usize, pages: Option<usize>) -> ListObjectsV2Output {
    let token = marker_after(page, pages);
    ListObjectsV2Output::builder()
        .contents(
            Object::builder()
                .key(format!("runs/r/{page:04}-a.json"))
                .build(),
        )
        .contents(
            Object::builder()
                .key(format!("runs/r/{page:04}-b.json"))
                .build(),
        )
        .is_truncated(token.is_some())
        .set_next_continuation_token(token)
        .build()
}

#[tokio::test]
async fn list_keys_follows_every_continuation_token() {
    let rule = mock!(Client::list_objects_v2)
        .match_requests(|r| r.bucket() == Some("reports") && r.prefix() == Some("runs/r/"))
        .then_compute_output(|r| keys_page(page_of(r.continuation_token()), Some(3)));
    let keys = store(&[&rule]).list_keys("runs/r/").await.unwrap();
    assert_eq!(keys.len(), 6);
    assert_eq!(keys[0], "runs/r/0000-a.json");
    assert_eq!(keys[5], "runs/r/0002-b.json");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn list_keys_of_an_empty_prefix_is_empty() {
    let rule = mock!(Client::list_objects_v2)
        .then_compute_output(|_| ListObjectsV2Output::builder().build());
    assert!(store(&[&rule]).list_keys("none/").await.unwrap().is_empty());
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn list_keys_truncated_without_a_token_is_a_storage_error() {
    let rule = mock!(Client::list_objects_v2).then_compute_output(|_| {
        let mut out = keys_page(0, Some(1));
        out.is_truncated = Some(true);
        out
    });
    let err = failure(store(&[&rule]).list_keys("runs/r/").await);
    assert_eq!(err.name(), "StorageError");
    assert!(
        err.to_string().contains(
            "ListObjectsV2 s3://reports/runs/r/: IsTruncated without a NextContinuationToken"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn list_keys_beyond_the_page_guard_is_a_storage_error() {
    let rule = mock!(Client::list_objects_v2)
        .then_compute_output(|r| keys_page(page_of(r.continuation_token()), None));
    assert_eq!(store(&[]).max_pages, MAX_S3_PAGES, "the production guard");
    // The guard lowered (10,000 mocked pages take seconds); the walk is the same.
    let err = failure(
        store(&[&rule])
            .with_max_pages(50)
            .list_keys("runs/r/")
            .await,
    );
    assert_eq!(err.name(), "StorageError", "{err:?}");
    assert!(
        err.to_string()
            .contains("ListObjectsV2 s3://reports/runs/r/: more than 50 pages"),
        "{err}"
    );
    assert_eq!(rule.num_calls(), 50);
}

#[tokio::test]
async fn list_keys_failing_is_a_storage_error() {
    let rule = mock!(Client::list_objects_v2)
        .sequence()
        .http_status(403, Some(s3_error("AccessDenied", "Access Denied")))
        .build();
    let err = failure(store(&[&rule]).list_keys("runs/r/").await);
    assert_eq!(err.name(), "StorageError", "{err:?}");
}

#[tokio::test]
async fn get_json_opt_reads_a_document() {
    let rule = mock!(Client::get_object)
        .match_requests(|r| r.bucket() == Some("reports") && r.key() == Some("a.json"))
        .then_output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(b"{\"n\":1}\n"))
                .build()
        });
    let store = store(&[&rule]);
    let value: Option<serde_json::Value> = store.get_json_opt("a.json").await.unwrap();
    assert_eq!(value, Some(serde_json::json!({"n": 1})));
    let value: serde_json::Value = store.get_json("a.json").await.unwrap();
    assert_eq!(value["n"], 1);
}

#[tokio::test]
async fn get_json_opt_of_a_missing_key_is_none_and_get_json_an_error() {
    let modeled = mock!(Client::get_object)
        .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
    let store_modeled = store(&[&modeled]);
    let value: Option<serde_json::Value> = store_modeled.get_json_opt("gone.json").await.unwrap();
    assert_eq!(value, None);
    let err = failure(
        store_modeled
            .get_json::<serde_json::Value>("gone.json")
            .await,
    );
    assert_eq!(err.name(), "StorageError", "{err:?}");
    assert!(err.to_string().contains("NoSuchKey"), "{err}");

    // The same, as S3 sends it over HTTP.
    let http = mock!(Client::get_object)
        .sequence()
        .http_status(
            404,
            Some(s3_error("NoSuchKey", "The specified key does not exist.")),
        )
        .build();
    let value: Option<serde_json::Value> = store(&[&http]).get_json_opt("gone.json").await.unwrap();
    assert_eq!(value, None);
}

#[tokio::test]
async fn get_json_opt_denied_or_failing_is_a_storage_error() {
    for (status, body) in [
        (403, s3_error("AccessDenied", "Access Denied")),
        (
            500,
            s3_error("InternalError", "We encountered an internal error."),
        ),
    ] {
        let rule = mock!(Client::get_object)
            .sequence()
            .http_status(status, Some(body))
            .build();
        let err = failure(
            store(&[&rule])
                .get_json_opt::<serde_json::Value>("a.json")
                .await,
        );
        assert_eq!(err.name(), "StorageError");
        assert!(
            err.to_string().contains("GetObject s3://reports/a.json"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn get_json_opt_of_a_broken_document_is_a_storage_error() {
    let rule = mock!(Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from_static(b"{not json"))
            .build()
    });
    let err = failure(
        store(&[&rule])
            .get_json_opt::<serde_json::Value>("a.json")
            .await,
    );
    assert_eq!(err.name(), "StorageError", "{err:?}");
    assert!(
        err.to_string().contains("decoding s3://reports/a.json"),
        "{err}"
    );
}
