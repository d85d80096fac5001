//! One guarded walk over paginated answers: IAM's `Marker`, S3's continuation token and
//! Organizations' `NextToken`. Every paginated call of the adapters goes through [`Pages`], so the rules are
//! the same everywhere:
//!
//! - the first page is asked without a marker, each next one with the previous page's;
//! - a page that is not truncated ends the walk (a marker it may carry is ignored);
//! - a page that says it is truncated but gives no marker is an error naming the
//!   operation (following it would restart from the first page, forever);
//! - at most `limit` pages: one more is an error naming the operation, so a runaway
//!   marker loop is a bug we stop rather than follow.
//!
//! The walk is a cursor rather than a closure so each loop keeps its own borrowing and
//! its own early returns (e.g. an access-advisor read that finds its job still running).

use crate::error::{PageError, PageProblem};

/// Access-advisor pages (GetServiceLastAccessedDetails(WithEntities),
/// ListPoliciesGrantingServiceAccess): a job has at most a few pages of 1000.
pub const MAX_PAGES: usize = 100;
/// Listing an account (ListUsers/Roles/Groups/Policies, GetAccountAuthorizationDetails,
/// List*Tags): IAM's quotas keep an account to a few thousand of each, but IAM may
/// return fewer items than asked, so the guard is generous.
pub const MAX_LIST_PAGES: usize = 1_000;
/// ListObjectsV2 pages of up to 1000 keys: ten million keys under one prefix.
pub const MAX_S3_PAGES: usize = 10_000;

/// Which service is walked: it decides the name of the marker. Its failures are a
/// [`PageError`], which each adapter's error takes in (`IamError::Paging`,
/// `StoreError::Paging`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "lambda"), allow(dead_code))] // IAM's and Organizations' walks
pub(crate) enum Service {
    /// `Marker`.
    Iam,
    /// `NextContinuationToken`.
    S3,
    /// `NextToken` (Organizations).
    Organizations,
}

/// One page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// 0 for the first page.
    pub index: usize,
    /// The marker (continuation token) to send: `None` on the first page only.
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    First,
    Next(String),
    Done,
}

/// The cursor of one paginated walk:
///
/// ```ignore
/// let mut pages = Pages::iam("ListRoles", MAX_LIST_PAGES);
/// while let Some(page) = pages.next()? {
///     let out = iam.list_roles().set_marker(page.marker).send().await?;
///     // ... use out ...
///     pages.turn(out.is_truncated, out.marker)?;
/// }
/// ```
#[derive(Debug)]
pub(crate) struct Pages {
    operation: String,
    service: Service,
    limit: usize,
    fetched: usize,
    state: State,
}

impl Pages {
    /// A walk over an IAM operation; `operation` names it in errors.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub(crate) fn iam(operation: impl Into<String>, limit: usize) -> Pages {
        Pages::new(Service::Iam, operation.into(), limit)
    }

    /// A walk over an Organizations operation (`NextToken`); `operation` names it in
    /// errors. A page is truncated when it gives a next token.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub(crate) fn organizations(operation: impl Into<String>, limit: usize) -> Pages {
        Pages::new(Service::Organizations, operation.into(), limit)
    }

    /// A walk over an S3 operation; `operation` names it (and what it lists) in errors.
    pub(crate) fn s3(operation: impl Into<String>, limit: usize) -> Pages {
        Pages::new(Service::S3, operation.into(), limit)
    }

    fn new(service: Service, operation: String, limit: usize) -> Pages {
        Pages {
            operation,
            service,
            limit: limit.max(1),
            fetched: 0,
            state: State::First,
        }
    }

    fn error(&self, problem: PageProblem) -> PageError {
        PageError {
            operation: self.operation.clone(),
            problem,
        }
    }

    /// The next page to fetch; `None` once a page was not truncated (or no page was
    /// turned since the last one was handed out). An error when the page guard is
    /// exceeded: the walk would fetch more than `limit` pages.
    pub(crate) fn next(&mut self) -> Result<Option<Page>, PageError> {
        let marker = match std::mem::replace(&mut self.state, State::Done) {
            State::Done => return Ok(None),
            State::First => None,
            State::Next(marker) => Some(marker),
        };
        if self.fetched >= self.limit {
            return Err(self.error(PageProblem::TooManyPages { limit: self.limit }));
        }
        let index = self.fetched;
        self.fetched += 1;
        Ok(Some(Page { index, marker }))
    }

    /// Records what the page just fetched says about the rest. An error when it says
    /// it is truncated but gives no marker (or an empty one).
    pub(crate) fn turn(
        &mut self,
        truncated: bool,
        marker: Option<String>,
    ) -> Result<(), PageError> {
        self.state = match (truncated, marker) {
            (false, _) => State::Done,
            (true, Some(marker)) if !marker.is_empty() => State::Next(marker),
            (true, _) => {
                let marker = match self.service {
                    Service::Iam => "Marker",
                    Service::S3 => "NextContinuationToken",
                    Service::Organizations => "NextToken",
                };
                return Err(self.error(PageProblem::TruncatedWithoutMarker { marker }));
            }
        };
        Ok(())
    }

    /// How many pages were handed out so far.
    #[cfg(test)]
    pub(crate) fn fetched(&self) -> usize {
        self.fetched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::error::{Error, IamError, StoreError};

    fn walk(pages: &mut Pages, answers: &[(bool, Option<&str>)]) -> Result<Vec<Page>, PageError> {
        let mut seen = Vec::new();
        let mut answers = answers.iter();
        while let Some(page) = pages.next()? {
            seen.push(page);
            let (truncated, marker) = answers.next().expect("asked past the last answer");
            pages.turn(*truncated, marker.map(str::to_string))?;
        }
        Ok(seen)
    }

    #[test]
    fn follows_markers_until_a_page_is_not_truncated() {
        let mut pages = Pages::iam("ListRoles", 10);
        let seen = walk(
            &mut pages,
            &[
                (true, Some("a")),
                (true, Some("b")),
                (false, Some("ignored")),
            ],
        )
        .unwrap();
        assert_eq!(
            seen,
            [
                Page {
                    index: 0,
                    marker: None
                },
                Page {
                    index: 1,
                    marker: Some("a".into())
                },
                Page {
                    index: 2,
                    marker: Some("b".into())
                },
            ]
        );
        assert_eq!(pages.fetched(), 3);
        assert_eq!(
            pages.next().unwrap(),
            None,
            "a finished walk stays finished"
        );
    }

    #[test]
    fn truncated_without_a_marker_is_an_error_of_the_service() {
        for marker in [None, Some("")] {
            let err = walk(&mut Pages::iam("ListUsers", 10), &[(true, marker)]).unwrap_err();
            let err = Error::from(IamError::from(err));
            assert_eq!(err.name(), "IamError");
            assert_eq!(
                err.to_string(),
                "IAM call failed: ListUsers: IsTruncated without a Marker"
            );
        }
        let err = walk(
            &mut Pages::s3("ListObjectsV2 s3://b/p", 10),
            &[(true, None)],
        )
        .unwrap_err();
        let err = Error::from(StoreError::from(err));
        assert_eq!(err.name(), "StorageError");
        assert!(err.to_string().contains("ListObjectsV2 s3://b/p"), "{err}");
        assert!(err.to_string().contains("NextContinuationToken"), "{err}");
    }

    #[test]
    fn the_page_guard_stops_after_the_limit() {
        let mut pages = Pages::iam("GetServiceLastAccessedDetails", 3);
        let err = walk(&mut pages, &[(true, Some("m")); 4]).unwrap_err();
        assert_eq!(pages.fetched(), 3, "exactly the limit was fetched");
        assert_eq!(
            IamError::from(err).to_string(),
            "IAM call failed: GetServiceLastAccessedDetails: more than 3 pages"
        );
        // Exactly the limit, the last one not truncated, is fine.
        let mut pages = Pages::iam("x", 2);
        assert_eq!(
            walk(&mut pages, &[(true, Some("m")), (false, None)])
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_page_never_turned_ends_the_walk() {
        let mut pages = Pages::iam("x", 5);
        assert!(pages.next().unwrap().is_some());
        assert_eq!(pages.next().unwrap(), None);
    }
}
