"""CloudFormation gaps of moto that infra/template.yaml (after the SAM transform) needs.

Each behaviour follows an AWS document, named in tests/emulator/README.md
("CloudFormation and Step Functions gaps"):

- ``AWS::NoValue`` inside a list removes the element (moto keeps a ``None``).
- Parameters of ``Type: Number`` are strings wherever they are referenced (moto makes
  them int/float, so a Lambda's Environment held numbers).
- A resource that fails to create makes the stack ``CREATE_FAILED`` with a
  ``CREATE_FAILED`` resource event carrying the reason (moto lets the exception escape
  and leaves the stack ``CREATE_IN_PROGRESS``); every resource gets
  ``CREATE_IN_PROGRESS``/``CREATE_COMPLETE`` events.  Nothing is rolled back (as with
  ``DisableRollback``).
- ``AWS::StepFunctions::StateMachine``: ``Definition`` (object), ``DefinitionS3Location``
  (read from moto's S3), ``DefinitionSubstitutions`` (``${Key}`` replaced),
  ``StateMachineType``, ``LoggingConfiguration``, ``TracingConfiguration``; created in
  the backend the API uses (moto's CloudFormation created it in the non-executing
  backend, invisible to StartExecution when ``execute_state_machine`` is on).
- ``AWS::Lambda::Function``: ``Architectures`` and ``Tags`` kept.
- ``AWS::IAM::Role``: inline ``Policies`` stored as JSON text (as IAM keeps them; moto
  kept the dict and GetAccountAuthorizationDetails failed); ``ManagedPolicyArns`` attached
  (moto ignored them; an AWS-managed one is loaded from moto's copy if need be).
- ``AWS::SNS::TopicPolicy``, ``AWS::SNS::Subscription``: applied through moto's SNS backend.
- ``AWS::S3::BucketPolicy``: recorded, and evaluated by IAM enforcement (see its class).
- ``AWS::Glue::Database``, ``AWS::Glue::Table``, ``AWS::Athena::NamedQuery``,
  ``AWS::Scheduler::Schedule``, ``AWS::CloudWatch::Alarm``: recorded placeholders
  without behaviour, whose Ref / Fn::GetAtt values are shaped like AWS's.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any, Dict, Optional

_local = threading.local()


# --------------------------------------------------------------- placeholders
def _placeholder_base() -> Any:
    class Placeholder:
        """A resource moto has no backend for: its properties are kept, nothing else.
        A mixin: each concrete class also subclasses CloudFormationModel directly (moto lists
        the models with CloudFormationModel.__subclasses__())."""

        ATTRIBUTES: tuple = ()

        def __init__(self, name: str, properties: Dict[str, Any], account_id: str,
                     region_name: str, stack_name: str, logical_id: str) -> None:
            self.name = name
            self.properties = properties
            self.account_id = account_id
            self.region_name = region_name
            self.stack_name = stack_name
            self.logical_id = logical_id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in cls.ATTRIBUTES

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            props = cloudformation_json.get("Properties") or {}
            stack_id = kwargs.get("StackId") or ""
            stack_name = stack_id.split(":stack/")[-1].split("/")[0] if stack_id else ""
            return cls(resource_name, props, account_id, region_name, stack_name,
                       kwargs.get("LogicalId") or "")

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: Any, account_id: str,
                                            region_name: str) -> Any:
            original_resource.properties = cloudformation_json.get("Properties") or {}
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                            account_id: str, region_name: str) -> None:
            return None

        def delete(self, account_id: str, region_name: str) -> None:
            return None

        def is_created(self) -> bool:
            return True

        @property
        def physical_resource_id(self) -> str:
            return self.name

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            if attribute_name not in self.ATTRIBUTES:
                raise UnformattedGetAttTemplateException()
            return self.attribute(attribute_name)

        def attribute(self, attribute_name: str) -> Any:
            raise NotImplementedError(attribute_name)

    return Placeholder


def _define_placeholders() -> None:
    from moto.cloudformation.utils import random_suffix
    from moto.core.common_models import CloudFormationModel as Model

    Placeholder = _placeholder_base()

    def generated(stack: str, logical: str) -> str:
        # CloudFormation's generated names: {stack}-{logical id}-{random suffix}
        return f"{stack}-{logical}-{random_suffix()}"

    class GlueDatabase(Placeholder, Model):
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Glue::Database"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            # Ref: the database name (DatabaseInput.Name, else DatabaseName)
            res.name = ((res.properties.get("DatabaseInput") or {}).get("Name")
                        or res.properties.get("DatabaseName") or resource_name)
            return res

    class GlueTable(Placeholder, Model):
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Glue::Table"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            # Ref: the table name
            res.name = (res.properties.get("TableInput") or {}).get("Name") or resource_name
            return res

    class AthenaNamedQuery(Placeholder, Model):
        ATTRIBUTES = ("NamedQueryId",)

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Athena::NamedQuery"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            res.name = str(uuid.uuid4())  # Ref and NamedQueryId: the query's id (a UUID)
            return res

        def attribute(self, attribute_name: str) -> Any:
            return self.name

    class SchedulerSchedule(Placeholder, Model):
        ATTRIBUTES = ("Arn",)

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::Schedule"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            res.name = res.properties.get("Name") or generated(res.stack_name, res.logical_id)
            return res

        def attribute(self, attribute_name: str) -> Any:
            group = self.properties.get("GroupName") or "default"
            return f"arn:aws:scheduler:{self.region_name}:{self.account_id}:schedule/{group}/{self.name}"

    class CloudWatchAlarm(Placeholder, Model):
        ATTRIBUTES = ("Arn",)

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            res.name = res.properties.get("AlarmName") or generated(res.stack_name, res.logical_id)
            return res

        def attribute(self, attribute_name: str) -> Any:
            return f"arn:aws:cloudwatch:{self.region_name}:{self.account_id}:alarm:{self.name}"

    class S3BucketPolicy(Placeholder, Model):
        # Not given to moto's S3, which evaluates a bucket policy on every object request
        # without the request's context (a conditional Deny such as aws:SecureTransport
        # would deny every request): the emulator's IAM enforcement evaluates it instead,
        # with the request's context (authz.bucket_decision).
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            from .authz import record_bucket_policy

            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            res.name = res.properties["Bucket"]  # Ref: the bucket name (primaryIdentifier)
            record_bucket_policy(res.name, res.properties["PolicyDocument"])
            return res

    class SnsTopicPolicy(Placeholder, Model):
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::TopicPolicy"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            from moto.sns.models import sns_backends

            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            doc = res.properties["PolicyDocument"]
            for topic in res.properties.get("Topics") or []:
                sns_backends[account_id][region_name].set_topic_attribute(
                    topic, "policy", doc if isinstance(doc, str) else json.dumps(doc))
            res.name = generated(res.stack_name, res.logical_id)  # Ref: a generated Id
            return res

    class SnsSubscription(Placeholder, Model):
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::Subscription"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # type: ignore[override]
            from moto.sns.models import sns_backends

            res = super().create_from_cloudformation_json(resource_name, cloudformation_json,
                                                          account_id, region_name, **kwargs)
            p = res.properties
            sub = sns_backends[account_id][region_name].subscribe(p["TopicArn"], p["Endpoint"], p["Protocol"])
            res.name = sub.arn  # Ref: the subscription ARN
            return res

    _PLACEHOLDERS.extend([GlueDatabase, GlueTable, AthenaNamedQuery, SchedulerSchedule,
                          CloudWatchAlarm, S3BucketPolicy, SnsTopicPolicy, SnsSubscription])


_PLACEHOLDERS: list = []


# ------------------------------------------------------------------ parsing
def _patch_parsing() -> None:
    from moto.cloudformation import parsing

    original_clean_json = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            # Fn::If [..., !Ref AWS::NoValue] inside a list removes the element
            cleaned = [clean_json(v, resources_map) for v in resource_json]
            return [v for v, raw in zip(cleaned, resource_json) if not (v is None and _is_novalue(raw))]
        return original_clean_json(resource_json, resources_map)

    def _is_novalue(raw: Any) -> bool:
        return isinstance(raw, dict) and ("Ref" in raw and raw["Ref"] == "AWS::NoValue" or "Fn::If" in raw)

    parsing.clean_json = clean_json  # the recursive calls look the module global up

    original_load_parameters = parsing.ResourceMap.load_parameters

    def load_parameters(self: Any) -> None:
        original_load_parameters(self)
        slots = self._template.get("Parameters", {}) or {}
        for key, slot in slots.items():
            if slot.get("Type") != "Number" or key not in self.resolved_parameters:
                continue
            raw = self.input_parameters.get(key, slot.get("Default"))
            value = raw if isinstance(raw, str) else _number_text(raw)
            self.resolved_parameters[key] = value
            self._parsed_resources[key] = value

    parsing.ResourceMap.load_parameters = load_parameters

    original_create = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id: str, resource_json: Dict[str, Any], resources_map: Any,
                                  account_id: str, region_name: str) -> Any:
        stack = getattr(_local, "stack", None)
        rtype = resource_json.get("Type", "")
        condition = resource_json.get("Condition")
        skipped = condition and not resources_map.lazy_condition_map[condition]
        if stack is not None and not skipped:
            _event(stack, logical_id, "", rtype, "CREATE_IN_PROGRESS")
        try:
            resource = original_create(logical_id, resource_json, resources_map, account_id, region_name)
        except Exception as exc:
            if stack is not None and not getattr(exc, "_cfn_reported", False):
                _event(stack, logical_id, "", rtype, "CREATE_FAILED",
                       f"{type(exc).__name__}: {exc}")
                exc._cfn_reported = True  # type: ignore[attr-defined]
                exc._cfn_logical_id = logical_id  # type: ignore[attr-defined]
            raise
        if stack is not None and resource is not None:
            physical = getattr(resource, "physical_resource_id", "") or ""
            _event(stack, logical_id, str(physical), rtype, "CREATE_COMPLETE")
        elif stack is not None and not skipped and rtype:
            _event(stack, logical_id, "", rtype, "CREATE_FAILED",
                   f"Unsupported resource type {rtype} (not emulated)")
        return resource

    parsing.parse_and_create_resource = parse_and_create_resource

    for fn in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        fn.cache_clear()


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(value)  # "1.0" stays as written by YAML
    return str(value)


def _event(stack: Any, logical_id: str, physical_id: str, rtype: str, status: str,
           reason: Optional[str] = None) -> None:
    from moto.cloudformation.models import Event

    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name,
                              logical_resource_id=logical_id, physical_resource_id=physical_id,
                              resource_type=rtype, resource_status=status,
                              resource_status_reason=reason, resource_properties=None))


def _patch_stack() -> None:
    from moto.cloudformation.models import Stack

    original = Stack.create_resources

    def create_resources(self: Any) -> None:
        _local.stack = self
        try:
            original(self)
        except Exception as exc:  # noqa: BLE001 - any failure ends the stack CREATE_FAILED
            self.status = "CREATE_FAILED"
            failed = getattr(exc, "_cfn_logical_id", None)
            self._add_stack_event("CREATE_FAILED", resource_status_reason=(
                f"The following resource(s) failed to create: [{failed}]. "
                if failed else f"{type(exc).__name__}: {exc}"))
        finally:
            _local.stack = None

    Stack.create_resources = create_resources

    original_outputs = Stack.outputs

    def outputs(self: Any) -> Any:
        # A stack that failed to create shows no outputs (their resources may not exist).
        if self.status == "CREATE_FAILED":
            return None
        return original_outputs.fget(self)

    Stack.outputs = property(outputs)

    # Resources under a false Condition are not created: not listed either.
    Stack.stack_resources = property(lambda self: [r for r in self.resource_map.values() if r is not None])


# -------------------------------------------------------------- Step Functions
_PLACEHOLDER_RE = re.compile(r"\$\{([^}]+)\}")


def substitute_definition(definition: str, substitutions: Dict[str, Any]) -> str:
    """${Key} -> value for each key of DefinitionSubstitutions; other ${...} stay."""
    def repl(m: "re.Match[str]") -> str:
        key = m.group(1)
        if key in substitutions:
            value = substitutions[key]
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        return m.group(0)

    return _PLACEHOLDER_RE.sub(repl, definition)


def _state_machine_definition(props: Dict[str, Any], account_id: str) -> str:
    if "DefinitionString" in props:
        definition = props["DefinitionString"]
    elif "Definition" in props:
        definition = json.dumps(props["Definition"])
    elif "DefinitionS3Location" in props:
        from moto.s3.models import s3_backends

        loc = props["DefinitionS3Location"]
        key = s3_backends[account_id]["aws"].get_object(loc["Bucket"], loc["Key"], version_id=loc.get("Version"))
        if key is None:
            raise ValueError(f"DefinitionS3Location s3://{loc['Bucket']}/{loc['Key']} not found")
        definition = key.value.decode("utf-8")
    else:
        definition = ""
    if props.get("DefinitionSubstitutions"):
        definition = substitute_definition(definition, props["DefinitionSubstitutions"])
    return definition


def _sfn_backend(account_id: str, region_name: str) -> Any:
    from moto.stepfunctions.responses import get_backend

    return get_backend(account_id, region_name)


def _patch_state_machine() -> None:
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.utils import cfn_to_api_tags

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        name = props.get("StateMachineName", resource_name)
        tags = cfn_to_api_tags(props.get("Tags", []))
        return _sfn_backend(account_id, region_name).create_state_machine(
            name, _state_machine_definition(props, account_id), props.get("RoleArn", ""),
            tags=tags,
            loggingConfiguration=_lower_keys(props.get("LoggingConfiguration")),
            tracingConfiguration=_lower_keys(props.get("TracingConfiguration")),
            sm_type=props.get("StateMachineType") or "STANDARD",
        )

    def delete_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str) -> None:
        _sfn_backend(account_id, region_name).delete_state_machine(resource_name)

    def delete(self: Any, account_id: str, region_name: str) -> None:
        _sfn_backend(account_id, region_name).delete_state_machine(self.arn)

    StateMachine.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    StateMachine.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)
    StateMachine.delete = delete


def _lower_keys(value: Any) -> Any:
    """CloudFormation's PascalCase LoggingConfiguration → the API's camelCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


# ----------------------------------------------------------------------- Lambda
def _patch_lambda() -> None:
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        if props.get("Architectures"):
            fn.architectures = props["Architectures"]
        if props.get("Tags"):
            fn.tags.update({t["Key"]: t["Value"] for t in props["Tags"]})
        return fn

    LambdaFunction.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


# -------------------------------------------------------------------------- IAM
def _ensure_aws_managed_policy(backend: Any, arn: str) -> None:
    """moto loads AWS-managed policies only on request (MOTO_IAM_LOAD_MANAGED_POLICIES):
    an AWS-managed policy a template attaches is loaded alone from moto's copy."""
    if not arn.startswith("arn:aws:iam::aws:policy/") or arn in backend.managed_policies:
        return
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    name = arn.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data).get(name)
    if data is None:
        return  # unknown to moto: attach_role_policy reports it
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn == arn:
        backend.managed_policies[policy.arn] = policy


def _patch_iam_role() -> None:
    from moto.iam.models import Role, iam_backends
    from moto.utilities.utils import get_partition

    original = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        # IAM keeps an inline policy as its JSON text (moto's CloudFormation stored the
        # dict, which GetAccountAuthorizationDetails / GetRolePolicy could not serialise).
        for policy in props.get("Policies") or []:
            if isinstance(policy, dict) and not isinstance(policy.get("PolicyDocument"), str):
                policy["PolicyDocument"] = json.dumps(policy["PolicyDocument"])
        role = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = iam_backends[account_id][get_partition(region_name)]
        for arn in props.get("ManagedPolicyArns") or []:
            _ensure_aws_managed_policy(backend, arn)
            backend.attach_role_policy(arn, role.name)
        return role

    Role.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def install() -> None:
    _define_placeholders()
    _patch_parsing()
    _patch_stack()
    _patch_state_machine()
    _patch_lambda()
    _patch_iam_role()
