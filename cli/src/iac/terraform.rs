//! Recommendations as Terraform (AWS provider): an inline policy's new document as
//! `aws_iam_{role,user,group}_policy`, a customer-managed one's as `aws_iam_policy`, an
//! AWS-managed policy's scoped replacement as `aws_iam_policy` plus its
//! `aws_iam_*_policy_attachment`, an unused key as `aws_iam_access_key` with
//! `status = "Inactive"`; each with an `import` block (Terraform 1.5+) that adopts what
//! exists, so `terraform plan` shows the recommendation as the change. Detaching and
//! deleting are the removal of a block, which no code can say: comments name the block.

use super::hcl;
use super::model::{by_hand, headline, policy_path, scoped_name, stem, Snippet, Subject};
use super::names::Names;
use last_accessed::domain::arn::PrincipalType;
use last_accessed::domain::recommend::{Action, PolicyKind, PolicyRef, Recommendation};
use serde_json::Value;

fn resource(kind: &str, name: &str, attrs: &[(String, String)]) -> String {
    format!(
        "resource {} {} {{\n{}}}\n",
        hcl::string(kind),
        hcl::string(name),
        hcl::attributes(attrs, 2)
    )
}

fn import(kind: &str, name: &str, id: &str) -> String {
    format!(
        "\nimport {{\n  to = {kind}.{name}\n  id = {}\n}}\n",
        hcl::string(id)
    )
}

fn attr(key: &str, value: &str) -> (String, String) {
    (key.to_string(), hcl::string(value))
}

fn policy_attr(document: &Value) -> (String, String) {
    (
        "policy".to_string(),
        format!("jsonencode({})", hcl::value(document, 2)),
    )
}

/// One recommendation as Terraform.
pub fn snippet(s: &Subject<'_>, r: &Recommendation, names: &mut Names) -> Snippet {
    let mut comment = headline(s, r);
    let (code, before) = match (r.action, &r.policy, &r.recommended_document) {
        (Action::UpdatePolicy, Some(p), Some(doc)) if p.kind == PolicyKind::Inline => {
            comment.push(ADOPT.to_string());
            inline_policy(s, p, doc, r.current_document.as_ref(), names)
        }
        (Action::UpdatePolicy, Some(p), Some(doc)) => {
            comment.push(ADOPT.to_string());
            comment.push(MANAGED_NOTE.to_string());
            managed_policy(p, doc, r.current_document.as_ref(), names)
        }
        (Action::ReplaceAwsManagedPolicy, Some(p), Some(doc)) => {
            let detach = Recommendation {
                action: Action::DetachPolicy,
                ..r.clone()
            };
            comment.push(format!(
                "Terraform: apply this, then {}",
                removal(s, &detach)
            ));
            comment.push(format!("By hand: {}", by_hand(s, &detach)));
            (scoped_policy(s, p, doc, names), None)
        }
        (Action::DeactivateAccessKey, _, _) => {
            comment.push(ADOPT.to_string());
            (access_key(s, r, names), None)
        }
        _ => {
            comment.push(format!("Terraform: {}", removal(s, r)));
            comment.push(NOT_CODE.to_string());
            comment.push(format!("By hand: {}", by_hand(s, r)));
            (String::new(), None)
        }
    };
    Snippet {
        action: r.action,
        stem: stem(r),
        comment,
        code,
        before,
    }
}

const ADOPT: &str = "Terraform: put this in place of the resource that manages it now (keep your own address); if none does, the import block adopts it, and terraform plan shows the change";
const MANAGED_NOTE: &str = "keep your description and tags: a changed name, path or description replaces the policy; the AWS provider deletes the oldest non-default version itself when the policy holds IAM's 5";
const NOT_CODE: &str =
    "Not expressible as code to add: Terraform removes an object when its block is deleted";

fn inline_policy(
    s: &Subject<'_>,
    p: &PolicyRef,
    doc: &Value,
    current: Option<&Value>,
    names: &mut Names,
) -> (String, Option<String>) {
    let t = s.type_word();
    let kind = format!("aws_iam_{t}_policy");
    let name = names.terraform(&[t, s.name, &p.name]);
    let block = |document: &Value| {
        resource(
            &kind,
            &name,
            &[
                attr("name", &p.name),
                attr(t, s.name),
                policy_attr(document),
            ],
        ) + &import(&kind, &name, &format!("{}:{}", s.name, p.name))
    };
    (block(doc), current.map(block))
}

fn managed_policy(
    p: &PolicyRef,
    doc: &Value,
    current: Option<&Value>,
    names: &mut Names,
) -> (String, Option<String>) {
    let kind = "aws_iam_policy";
    let name = names.terraform(&["policy", &p.name]);
    let arn = p.arn.clone().unwrap_or_default();
    let path = policy_path(p);
    let block = |document: &Value| {
        resource(
            kind,
            &name,
            &[
                attr("name", &p.name),
                attr("path", &path),
                policy_attr(document),
            ],
        ) + &import(kind, &name, &arn)
    };
    (block(doc), current.map(block))
}

fn scoped_policy(s: &Subject<'_>, p: &PolicyRef, doc: &Value, names: &mut Names) -> String {
    let t = s.type_word();
    let scoped = scoped_name(p, s);
    let policy = names.terraform(&["policy", &scoped]);
    let attachment_kind = format!("aws_iam_{t}_policy_attachment");
    let attachment = names.terraform(&[t, s.name, &scoped]);
    resource(
        "aws_iam_policy",
        &policy,
        &[attr("name", &scoped), policy_attr(doc)],
    ) + "\n"
        + &resource(
            &attachment_kind,
            &attachment,
            &[
                attr(t, s.name),
                (
                    "policy_arn".to_string(),
                    format!("aws_iam_policy.{policy}.arn"),
                ),
            ],
        )
}

fn access_key(s: &Subject<'_>, r: &Recommendation, names: &mut Names) -> String {
    let id = r.access_key_id.as_deref().unwrap_or_default();
    let kind = "aws_iam_access_key";
    let name = names.terraform(&["user", s.name, id]);
    resource(
        kind,
        &name,
        &[attr("user", s.name), attr("status", "Inactive")],
    ) + &import(kind, &name, id)
}

/// Which block to delete for a removal.
fn removal(s: &Subject<'_>, r: &Recommendation) -> String {
    let t = s.type_word();
    let n = s.name;
    let (arn, policy) = s.target(r);
    let role = s.kind == PrincipalType::Role;
    match r.action {
        Action::DeleteInlinePolicy if role => format!(
            "delete the aws_iam_role_policy of {policy:?} on role {n} (or its inline_policy block in the aws_iam_role)"
        ),
        Action::DeleteInlinePolicy => {
            format!("delete the aws_iam_{t}_policy of {policy:?} on {t} {n}")
        }
        Action::DetachPolicy if s.kind == PrincipalType::Policy => format!(
            "delete every aws_iam_role_policy_attachment, aws_iam_user_policy_attachment, aws_iam_group_policy_attachment and aws_iam_policy_attachment of {arn}, then its aws_iam_policy"
        ),
        Action::DetachPolicy if role => format!(
            "delete the aws_iam_role_policy_attachment of {arn} to role {n} (or {arn} from the managed_policy_arns of the aws_iam_role, or {n} from the roles of an aws_iam_policy_attachment)"
        ),
        Action::DetachPolicy => format!(
            "delete the aws_iam_{t}_policy_attachment of {arn} to {t} {n} (or {n} from the {t}s of an aws_iam_policy_attachment)"
        ),
        Action::DeletePrincipal => format!(
            "delete the aws_iam_role {n} with its policies, attachments and instance profiles"
        ),
        Action::RemoveConsolePassword => {
            format!("delete the aws_iam_user_login_profile of user {n}")
        }
        _ => "the report holds no document for it".to_string(),
    }
}
