//! The Lambda runtime's loop around a handler.

use crate::adapters::deadline::Deadline;
use crate::error::Error;
use crate::runtime::deps::Dependencies;
use std::time::Duration;

/// Runs a handler on the Lambda runtime: tracing from the standard variables, the
/// handler's own dependencies built once; a failure to build them (always a
/// [`error::ConfigError`]) is reported, as itself, by every invocation.
pub async fn serve<D, F, Fut, T>(handler: F) -> Result<(), lambda_runtime::Error>
where
    D: Dependencies,
    F: Fn(std::sync::Arc<D>, lambda_runtime::LambdaEvent<serde_json::Value>) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
    T: serde::Serialize,
{
    lambda_runtime::tracing::init_default_subscriber();
    let deps = D::from_env().await.map(std::sync::Arc::new);
    if let Err(e) = &deps {
        tracing::error!(error = %e, "cannot start");
    }
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let deps = deps
                .as_ref()
                .map(std::sync::Arc::clone)
                .map_err(|e| Error::Config(e.clone()));
            let fut = deps.map(|d| handler(d, event));
            // Boxed: the handlers' futures are deep enough to overflow rustc's layout query.
            Box::pin(async move { fut?.await })
        },
    ))
    .await
}

/// [`serve`], each invocation handed its [`Deadline`]: the earlier of its context's
/// deadline (the runtime API's `Lambda-Runtime-Deadline-Ms`) and its start plus the
/// function's configured Timeout (`FUNCTION_TIMEOUT_SECONDS`), taken as the invocation
/// arrives.
pub async fn serve_within_deadline<D, F, Fut, T>(handler: F) -> Result<(), lambda_runtime::Error>
where
    D: Dependencies,
    F: Fn(std::sync::Arc<D>, lambda_runtime::LambdaEvent<serde_json::Value>, Deadline) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
    T: serde::Serialize,
{
    serve(
        |deps: std::sync::Arc<D>, event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let timeout = Duration::from_secs(u64::from(deps.config().function_timeout_seconds));
            let deadline = Deadline::of_invocation(event.context.deadline, timeout);
            handler(deps, event, deadline)
        },
    )
    .await
}
