//! A paginated answer that breaks the pagination protocol (IAM's `Marker`, S3's
//! continuation token); see `adapters::pages`.

/// What went wrong with a walk over pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageProblem {
    /// Following it would restart from the first page, forever.
    #[error("IsTruncated without a {marker}")]
    TruncatedWithoutMarker { marker: &'static str },
    /// The page guard: a runaway marker loop is a bug we stop rather than follow.
    #[error("more than {limit} pages")]
    TooManyPages { limit: usize },
}

/// A [`PageProblem`] of one operation (e.g. `ListRoles`, `ListObjectsV2 s3://b/p`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {problem}")]
pub struct PageError {
    pub operation: String,
    #[source]
    pub problem: PageProblem,
}
