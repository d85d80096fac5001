//! The `write` Lambda: glue only; the handler is `last_accessed::handlers::write`.

use last_accessed::handlers::write;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    last_accessed::serve(true, |deps, event| async move {
        write::handle(&deps, event.payload).await
    })
    .await
}
