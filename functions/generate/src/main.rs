//! The `generate` Lambda: glue only; the handler is `last_accessed::handlers::generate`.

use last_accessed::handlers::generate;
use last_accessed::runtime::deps::GenerateDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve_within_deadline(
        |deps: Arc<GenerateDeps>, event, deadline| async move {
            generate::handle(&deps, event.payload, deadline).await
        },
    )
    .await
}
