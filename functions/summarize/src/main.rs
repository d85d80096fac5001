//! The `summarize` Lambda: glue only; the handler is `last_accessed::handlers::summarize`.

use last_accessed::handlers::{summarize, SummarizeDeps};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::serve(|deps: Arc<SummarizeDeps>, event| async move {
        summarize::handle(&deps, event.payload).await
    })
    .await
}
