//! The `check` Lambda: glue only; the handler is `last_accessed::handlers::check`.

use last_accessed::handlers::{check, JobDeps};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::serve(|deps: Arc<JobDeps>, event| async move {
        check::handle(&deps, event.payload).await
    })
    .await
}
