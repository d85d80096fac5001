//! The `generate` Lambda: glue only; the handler is `last_accessed::handlers::generate`.

use last_accessed::handlers::generate;
use last_accessed::runtime::deps::GenerateDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve(|deps: Arc<GenerateDeps>, event| async move {
        generate::handle(&deps, event.payload).await
    })
    .await
}
