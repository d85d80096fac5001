//! The `summarize` Lambda: glue only; the handler is `last_accessed::handlers::summarize`.

use last_accessed::handlers::summarize;
use last_accessed::runtime::deps::SummarizeDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve(|deps: Arc<SummarizeDeps>, event| async move {
        summarize::handle(&deps, event.payload).await
    })
    .await
}
