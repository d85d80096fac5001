//! The Lambda runtime's loop around a handler.

use crate::error::Error;
use crate::runtime::deps::Dependencies;

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
