//! The `write` Lambda: glue only; the handler is `last_accessed::handlers::write`.

use last_accessed::handlers::write;
use last_accessed::runtime::deps::JobDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve(|deps: Arc<JobDeps>, event| async move {
        write::handle(&deps, event.payload).await
    })
    .await
}
