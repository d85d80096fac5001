//! Judging the policies a principal holds: inline ones on its own report, managed ones
//! on theirs (customer-managed) or by detach-or-replace (AWS-managed).

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::policy::{ready, rewrite, AdvisorView, PolicyDocument, PolicyLimit};
use crate::domain::recommend::holdings::MAX_POLICY_VERSIONS;
use crate::domain::recommend::{
    Action, InlinePolicy, Judgement, ManagedPolicy, PolicyKind, PolicyRef, Recommendation,
};

const UPDATE_INLINE: &str =
    "grants only what was used within unused_days, and what access advisor can't see";
const DELETE_INLINE: &str = "none of the services it grants was used within unused_days";
const DETACH_FROM_HOLDER: &str =
    "the holder used none of the services it grants within unused_days";
const REPLACE_AWS_MANAGED: &str = "an AWS-managed policy can't be edited: create this customer-managed policy, attach it, detach the AWS-managed one";
const DETACH_EVERYWHERE: &str = "no entity it is attached to used any service it grants within unused_days: detach it from each (then delete it)";
const UPDATE_MANAGED: &str = "judged by the policy's own report, which covers every entity it is attached to: create-policy-version --set-as-default";

fn parse(j: &mut Judgement, what: &str, text: &str) -> Option<PolicyDocument> {
    match PolicyDocument::parse(text) {
        Ok(d) => Some(d),
        Err(e) => {
            j.notes.push(format!(
                "{what}: its document can't be parsed ({e}); left alone"
            ));
            None
        }
    }
}

fn document_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("ready() returns JSON it has read back")
}

fn inline_limit(kind: PrincipalType) -> PolicyLimit {
    match kind {
        PrincipalType::User => PolicyLimit::UserInline,
        PrincipalType::Group => PolicyLimit::GroupInline,
        _ => PolicyLimit::RoleInline,
    }
}

/// Each inline policy rewritten; the documents kept together must fit the holder's quota.
pub(super) fn judge_inline(
    j: &mut Judgement,
    arn: &PrincipalArn,
    holder: &str,
    inline: &[InlinePolicy],
    view: &AdvisorView,
) {
    // Every inline document as it would be, and the updates waiting for their text.
    let mut after: Vec<PolicyDocument> = Vec::new();
    let mut updates: Vec<(usize, Recommendation)> = Vec::new();
    for p in inline {
        let Some(doc) = parse(j, &format!("inline policy {}", p.name), &p.document) else {
            continue;
        };
        let r = rewrite(&doc, view);
        let reference = PolicyRef {
            kind: PolicyKind::Inline,
            name: p.name.clone(),
            arn: None,
            holder: Some(holder.to_string()),
        };
        match &r.document {
            None => j.recommendations.push(Recommendation::about_policy(
                Action::DeleteInlinePolicy,
                reference,
                &r,
                DELETE_INLINE,
            )),
            Some(new) if r.changed => {
                let mut update = Recommendation::about_policy(
                    Action::UpdatePolicy,
                    reference,
                    &r,
                    UPDATE_INLINE,
                );
                update.current_document = serde_json::from_str(&p.document).ok();
                updates.push((after.len(), update));
                after.push(new.clone());
            }
            Some(_) => after.push(doc),
        }
    }
    if updates.is_empty() {
        return;
    }
    let documents: Vec<&PolicyDocument> = after.iter().collect();
    match ready(&documents, inline_limit(arn.kind())) {
        Ok(texts) => {
            for (at, mut update) in updates {
                update.recommended_document = Some(document_value(&texts[at]));
                j.recommendations.push(update);
            }
        }
        Err(e) => j.notes.push(format!(
            "the inline policies of {holder} can't be rewritten within IAM's rules: {e}; left alone"
        )),
    }
}

fn managed_ref(p: &ManagedPolicy, holder: Option<&str>) -> PolicyRef {
    PolicyRef {
        kind: if p.aws_managed {
            PolicyKind::AwsManaged
        } else {
            PolicyKind::Managed
        },
        name: p.name.clone(),
        arn: Some(p.arn.clone()),
        holder: holder.map(str::to_string),
    }
}

/// `new` as one managed policy's document (IAM's 6,144 characters): `rec` with it, or a
/// note saying why there is none (`what` names what is missing).
fn with_managed_document(
    j: &mut Judgement,
    p: &ManagedPolicy,
    new: &PolicyDocument,
    mut rec: Recommendation,
    what: &str,
) {
    match ready(&[new], PolicyLimit::Managed) {
        Ok(texts) => {
            rec.recommended_document = Some(document_value(&texts[0]));
            j.recommendations.push(rec);
        }
        Err(e) => j.notes.push(format!("{}: {what}{e}; left alone", p.arn)),
    }
}

/// A managed policy held by a user, role or group, judged on the holder's report.
pub(super) fn judge_attached(
    j: &mut Judgement,
    holder: &str,
    p: &ManagedPolicy,
    view: &AdvisorView,
) {
    let Some(doc) = parse(j, &p.arn, &p.document) else {
        return;
    };
    let r = rewrite(&doc, view);
    let reference = managed_ref(p, Some(holder));
    match (&r.document, p.aws_managed) {
        (None, _) => j.recommendations.push(Recommendation::about_policy(
            Action::DetachPolicy,
            reference,
            &r,
            DETACH_FROM_HOLDER,
        )),
        (Some(new), true) if r.changed => {
            let rec = Recommendation::about_policy(
                Action::ReplaceAwsManagedPolicy,
                reference,
                &r,
                REPLACE_AWS_MANAGED,
            );
            with_managed_document(j, p, new, rec, "no scoped replacement: ");
        }
        // A customer-managed policy is rewritten on its own report, which covers every
        // entity it is attached to.
        _ => {}
    }
}

/// A customer-managed policy's own report: its document, rewritten from it.
pub(super) fn judge_own_managed(j: &mut Judgement, p: &ManagedPolicy, view: &AdvisorView) {
    let Some(doc) = parse(j, &p.arn, &p.document) else {
        return;
    };
    let r = rewrite(&doc, view);
    let reference = managed_ref(p, None);
    match &r.document {
        None => j.recommendations.push(Recommendation::about_policy(
            Action::DetachPolicy,
            reference,
            &r,
            DETACH_EVERYWHERE,
        )),
        Some(new) if r.changed => {
            let mut rec =
                Recommendation::about_policy(Action::UpdatePolicy, reference, &r, UPDATE_MANAGED);
            rec.current_document = serde_json::from_str(&p.document).ok();
            if let Some(version) = p.version_to_delete_first() {
                rec.delete_version_first = Some(version.to_string());
                rec.reason = format!(
                    "{}; the policy holds IAM's {MAX_POLICY_VERSIONS} versions: delete-policy-version {version} (its oldest that is not the default) first",
                    rec.reason
                );
            }
            with_managed_document(j, p, new, rec, "");
        }
        Some(_) => {}
    }
}
