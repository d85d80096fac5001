"""Step Functions engine gaps of moto (its port of LocalStack's ASL interpreter) that the
ASL needs. See tests/emulator/README.md, "CloudFormation and Step Functions gaps".

- ``ToleratedFailurePercentage`` written as a JSON integer (``100``): moto's grammar only
  takes a decimal NUMBER token there and refused the definition; AWS takes any number
  from 0 to 100. The definition is parsed with such values as decimals (the stored and
  described definition is unchanged).
- Distributed Map failure threshold: moto parsed ``ToleratedFailureCount`` /
  ``ToleratedFailurePercentage`` (and their ``…Path`` forms) but ignored them, and a
  child execution that failed only left a ``null`` in the Map's output. Now, as on AWS,
  the Map Run fails with ``States.ExceedToleratedFailureThreshold`` when the failed
  (failed, timed-out or aborted) items exceed the tolerance: more than
  ``ToleratedFailureCount`` items, or more than ``ToleratedFailurePercentage`` percent of
  all items; with both fields, exceeding either fails it; with neither, any failed item
  does. Within the tolerance the Map succeeds and a failed item's result is ``null``.
  moto evaluates the threshold once every item has ended (AWS may stop earlier).
- StopExecution stops the Map Runs, child executions and Tasks of the execution too
  (sfn_stop.py; a stopped Map Run ends ABORTED, without the threshold).
- An ``aws-sdk:s3:getObject`` Task's ``Body`` is the object's text, as on AWS (moto's
  engine passed botocore's stream object on).
"""

from __future__ import annotations

import json
import threading
from typing import Any, List

from . import sfn_stop

_local = threading.local()

THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def _decimal_percentages(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "ToleratedFailurePercentage" and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            out[key] = _decimal_percentages(value)
        return out
    if isinstance(node, list):
        return [_decimal_percentages(v) for v in node]
    return node


def normalise_definition(definition: str) -> str:
    if "ToleratedFailurePercentage" not in definition:
        return definition
    try:
        parsed = json.loads(definition)
    except (TypeError, ValueError):
        return definition
    return json.dumps(_decimal_percentages(parsed))


def _patch_parser() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original = AmazonStateLanguageParser.__dict__["parse"].__func__

    def parse(definition: str) -> Any:
        return original(normalise_definition(definition))

    AmazonStateLanguageParser.parse = staticmethod(parse)


def _patch_map() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
        ToleratedFailureCountDecl,
        ToleratedFailurePercentageDecl,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    StateMap = state_map.StateMap
    original_from_props = StateMap.from_state_props

    def from_state_props(self: Any, state_props: Any) -> None:
        original_from_props(self, state_props)
        self._tolerance_declared = (state_props.get(ToleratedFailureCountDecl) is not None,
                                    state_props.get(ToleratedFailurePercentageDecl) is not None)

    StateMap.from_state_props = from_state_props

    original_eval_execution = StateMap._eval_execution

    def _eval_execution(self: Any, env: Any) -> None:
        stack: List[Any] = getattr(_local, "declared", None) or []
        _local.declared = stack
        stack.append(getattr(self, "_tolerance_declared", (False, False)))
        try:
            original_eval_execution(self, env)
        finally:
            stack.pop()

    StateMap._eval_execution = _eval_execution

    original_map_run = DistributedIterationComponent._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        if sfn_stop.map_run_aborted(env):
            return  # stopped with its execution: ABORTED, no threshold (sfn_stop.py)
        counter = eval_input.map_run_record.item_counter
        failed = counter.failed.get() + counter.timed_out.get() + counter.aborted.get()
        if not failed:
            return
        total = max(counter.total.get(), 1)
        stack = getattr(_local, "declared", None) or [(False, False)]
        count_declared, percentage_declared = stack[-1]
        count = eval_input.tolerated_failure_count
        percentage = eval_input.tolerated_failure_percentage
        if count_declared or percentage_declared:
            exceeded = ((count_declared and count is not None and failed > count)
                        or (percentage_declared and percentage is not None
                            and failed * 100.0 / total > float(percentage)))
        else:
            exceeded = True
        if not exceeded:
            return
        env.stack.pop()  # the outputs original_map_run pushed
        error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
        raise FailureEventException(failure_event=FailureEvent(
            env=env,
            error_name=error,
            event_type=HistoryEventType.MapStateFailed,
            event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
                error=error.error_name, cause=THRESHOLD_CAUSE)),
        ))

    DistributedIterationComponent._map_run = _map_run


def _patch_sdk_bodies() -> None:
    """An ``aws-sdk:s3:getObject`` Task's ``Body`` is the object's content as text, as on
    AWS (Developer Guide, *AWS SDK service integrations*; the same gap in LocalStack's
    interpreter, localstack/localstack#10787); moto's engine handed the botocore stream object itself on to
    ResultSelector (``States.StringToJson($.Body)`` then failed with ``States.Runtime``)."""
    from botocore.response import StreamingBody
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    cls = sdk.StateTaskServiceAwsSdk
    if getattr(cls, "_access_advisor_bodies", False):
        return
    original = cls._eval_service_task

    def _eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, env, *args, **kwargs)
        top = env.stack[-1] if env.stack else None
        if isinstance(top, dict):
            for key, value in list(top.items()):
                if isinstance(value, StreamingBody):
                    top[key] = value.read().decode("utf-8")
        return result

    cls._eval_service_task = _eval_service_task
    cls._access_advisor_bodies = True


def install() -> None:
    _patch_parser()
    _patch_map()
    _patch_sdk_bodies()
    sfn_stop.install()
