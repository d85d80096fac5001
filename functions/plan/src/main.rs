//! The `plan` Lambda: glue only; the handler is `last_accessed::handlers::plan`.

use last_accessed::handlers::plan;
use last_accessed::runtime::deps::PlanDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve(|deps: Arc<PlanDeps>, event| async move {
        plan::handle(
            &deps,
            event.payload,
            Some(&event.context.invoked_function_arn),
        )
        .await
    })
    .await
}
