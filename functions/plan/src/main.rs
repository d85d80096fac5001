//! The `plan` Lambda: glue only; the handler is `last_accessed::handlers::plan`.

use last_accessed::handlers::plan;
use last_accessed::runtime::deps::PlanDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::runtime::serve_within_deadline(
        |deps: Arc<PlanDeps>, event, deadline| async move {
            plan::handle(
                &deps,
                event.payload,
                Some(&event.context.invoked_function_arn),
                deadline,
            )
            .await
        },
    )
    .await
}
