//! Which accounts an organization run selects.
use super::*;
use crate::domain::arn::AccountId;
use crate::domain::input::{AccountSelection, Organization};

fn account(id: &str, status: &str, path: &str) -> OrgAccount {
    OrgAccount {
        id: AccountId::parse(id).unwrap(),
        name: format!("n{id}"),
        status: OrgState::from(status.to_string()),
        ou_path: path.into(),
    }
}

fn tree() -> OrgTree {
    OrgTree {
        accounts: vec![
            account("111111111111", "ACTIVE", "r-ab12"),
            account("222222222222", "ACTIVE", "r-ab12/ou-ab12-aaaaaaaa"),
            account(
                "333333333333",
                "SUSPENDED",
                "r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb",
            ),
            account(
                "444444444444",
                "ACTIVE",
                "r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb",
            ),
        ],
        units: ["r-ab12", "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb"]
            .map(String::from)
            .into(),
    }
}

fn org(selection: AccountSelection, exclude: &[&str]) -> Organization {
    Organization {
        selection,
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
        member_role: "m".into(),
        max_accounts_in_parallel: 2,
        access_report: false,
        access_report_timeout_seconds: 3600,
    }
}

fn ids(accounts: Vec<OrgAccount>) -> Vec<String> {
    accounts.into_iter().map(|a| a.id.to_string()).collect()
}

#[test]
fn all_is_every_active_account_less_the_excluded() {
    let got = tree().select(&org(AccountSelection::All, &["222222222222"]));
    assert_eq!(ids(got.unwrap()), ["111111111111", "444444444444"]);
}

#[test]
fn units_are_recursive_and_keep_suspended_accounts_to_report_them() {
    let got = tree().select(&org(
        AccountSelection::Units(vec!["ou-ab12-aaaaaaaa".into()]),
        &[],
    ));
    assert_eq!(
        ids(got.unwrap()),
        ["222222222222", "333333333333", "444444444444"]
    );
}

#[test]
fn unknown_accounts_and_units_and_empty_scopes_name_the_field() {
    let t = tree();
    let e = t
        .select(&org(
            AccountSelection::Accounts(vec!["111111111111".into(), "999999999999".into()]),
            &[],
        ))
        .unwrap_err();
    assert!(e.to_string().contains("organization.accounts[1]"), "{e}");
    let e = t
        .select(&org(
            AccountSelection::Units(vec!["ou-ab12-cccccccc".into()]),
            &[],
        ))
        .unwrap_err();
    assert!(e.to_string().contains("organization.units[0]"), "{e}");
    let e = t
        .select(&org(
            AccountSelection::Accounts(vec!["111111111111".into()]),
            &["111111111111"],
        ))
        .unwrap_err();
    assert_eq!(e.field(), "organization");
    assert_eq!(crate::error::Error::from(e).name(), "InvalidInput");
}

#[test]
fn account_comes_from_the_function_arn() {
    assert_eq!(
        account_of_function("arn:aws:lambda:eu-west-1:123456789012:function:plan").as_deref(),
        Some("123456789012")
    );
    assert_eq!(account_of_function("nonsense"), None);
}

#[test]
fn organizations_states_keep_their_word() {
    for word in [
        "ACTIVE",
        "SUSPENDED",
        "PENDING_CLOSURE",
        "CLOSED",
        "SOMETHING_NEW",
    ] {
        let state: OrgState = serde_json::from_value(serde_json::json!(word)).unwrap();
        assert_eq!(serde_json::to_value(&state).unwrap(), word);
    }
    assert_eq!(OrgState::from("ACTIVE".to_string()), OrgState::Active);
}
