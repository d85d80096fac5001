//! The `summarize` Lambda: glue only; the handler is `last_accessed::handlers::summarize`.

use last_accessed::handlers::summarize;
use last_accessed::runtime::deps::SummarizeDeps;
use std::sync::Arc;

// One thread: Summarize's work is one sequential stream, and on one thread its
// allocations stay in one of the allocator's arenas (a multi-threaded runtime spreads
// them over one per worker: ~8 MB more at 2,000 principals of 370 services).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve(|deps: Arc<SummarizeDeps>, event| async move {
        summarize::handle(&deps, event.payload).await
    })
    .await
}
