//! The `check` Lambda: glue only; the handler is `last_accessed::handlers::check`.

use last_accessed::handlers::check;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::serve(true, |deps, event| async move {
        check::handle(&deps, event.payload).await
    })
    .await
}
