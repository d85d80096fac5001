"""StopExecution stops all of a run: its Distributed Map runs, their child executions (at
every depth) and every Task that has not started yet. See tests/emulator/README.md,
"CloudFormation and Step Functions gaps" (the StopExecution row) for what AWS documents.

moto 5.2.5 ran Distributed Map children inline (frames of the parent's environment); on
StopExecution it dropped the request's ``error`` and ``cause``, left the execution RUNNING
(and ``stopDate`` unset, which the StopExecution response requires) until every child in
flight had returned, marked the Map Runs of a stopped execution SUCCEEDED (or FAILED), let
a stopped Map Run take its next items (each failing at once), and let a child's later error
turn its ABORTED into FAILED. Here:

- StopExecution of a RUNNING execution marks it ABORTED at once, ``stopDate`` the moment the
  stop reached every child, ``error``/``cause`` as given (DescribeExecution and the
  ``ExecutionAborted`` history event); every Map Run of it still RUNNING (the accounts' and
  the batches' alike: moto keeps them all on the execution) is ABORTED with that stop date.
  A finished execution is left as it is.
- A stopped Map Run starts no further child; the items it never started are closed without
  a result and counted nowhere (moto's ``total`` counts started items). A child stopped
  while running counts ``aborted`` (no longer ``running``).
- A Task (Lambda invoke) is checked under the state's own lock against the stop: it
  starts only while its execution runs, and StopExecution returns only after every frame
  is stopped, so no invocation of the execution starts after its ``stopDate``. An invocation
  already in flight runs to its end (as on AWS, where a Lambda invocation is not recalled),
  then the child ends ABORTED.
- Every Lambda Task invocation is recorded per execution (function, start, end:
  ``GET /moto-api/iam-access-advisor/invocations?execution=ARN``), so a test can tell what
  started before and after a stop.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

_LOCK = threading.Lock()
_INVOCATIONS: Dict[str, List[Dict[str, Any]]] = {}
JSON = {"Content-Type": "application/json"}


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.timezone.utc)


def _iso(moment: Optional[datetime.datetime]) -> Optional[str]:
    return moment.isoformat() if moment is not None else None


def invocations(execution_arn: Optional[str]) -> Dict[str, Any]:
    with _LOCK:
        if execution_arn is None:
            picked = {arn: list(rows) for arn, rows in _INVOCATIONS.items()}
        else:
            picked = {execution_arn: list(_INVOCATIONS.get(execution_arn, []))}
    out = {}
    for arn, rows in picked.items():
        out[arn] = [{"function": r["function"], "started": _iso(r["started"]),
                     "ended": _iso(r.get("ended"))} for r in rows]
    return {"invocations": out}


def reset() -> None:
    with _LOCK:
        _INVOCATIONS.clear()


def _execution_arn(env: Any) -> str:
    return env.states.context_object.context_object_data["Execution"]["Id"]


# ------------------------------------------------------------------------ StopExecution
def stop(execution: Any, error: Optional[str], cause: Optional[str]) -> None:
    """Stop a parser-engine execution and everything it started (see the module text)."""
    from moto.stepfunctions.parser.api import ExecutionStatus, MapRunStatus

    worker = execution.exec_worker
    deadline = time.time() + 5
    # the engine's thread creates the environment just after StartExecution answered
    while worker is not None and worker.env is None and time.time() < deadline:
        time.sleep(0.01)
    env = worker.env if worker is not None else None
    if env is None or execution.exec_status != ExecutionStatus.RUNNING:
        return
    with env._state_mutex:  # noqa: SLF001 - the engine's own lock, re-entrant
        if execution.exec_status != ExecutionStatus.RUNNING:
            return
        if error is not None:
            execution.error = error
        if cause is not None:
            execution.cause = cause
        execution.exec_status = ExecutionStatus.ABORTED
        env.set_stop(stop_date=_now(), cause=cause, error=error)
        stopped_at = _now()  # every frame (child) is stopped by now
        execution.stop_date = stopped_at
        for record in env.map_run_record_pool_manager.get_all():
            if record.status == MapRunStatus.RUNNING:
                record.status = MapRunStatus.ABORTED
                record.stop_date = stopped_at


def _patch_stop_execution() -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.stop_execution
    if getattr(original, "_access_advisor_stop", False):
        return

    def stop_execution(self: Any) -> Any:
        backend = self.stepfunction_backend
        arn = self._get_param("executionArn")
        execution = backend.describe_execution(arn)  # ExecutionDoesNotExist, InvalidArn
        if getattr(execution, "exec_worker", None) is None:
            return original(self)  # moto's own (non-executing) backend
        stop(execution, self._get_param("error"), self._get_param("cause"))
        return ActionResult({"stopDate": execution.stop_date})

    stop_execution._access_advisor_stop = True  # type: ignore[attr-defined]
    StepFunctionResponse.stop_execution = stop_execution  # type: ignore[method-assign]


def _patch_execution_status() -> None:
    """An execution StopExecution marked ABORTED stays so when its program ends."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication._reflect_execution_status

    def _reflect_execution_status(self: Any) -> None:
        if self.execution.exec_status == ExecutionStatus.ABORTED:
            return
        original(self)

    BaseExecutionWorkerCommunication._reflect_execution_status = _reflect_execution_status


def _patch_environment() -> None:
    """A stopped frame stays stopped: a later error or timeout inside it (a Catch that may
    not move to its next state, a Task's answer arriving after the stop) does not turn the
    child's ABORTED into FAILED or TIMED_OUT."""
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    for name in ("set_error", "set_timed_out"):
        original = getattr(Environment, name)

        def make(original: Any) -> Any:
            def guarded(self: Any, *args: Any, **kwargs: Any) -> None:
                with self._state_mutex:  # noqa: SLF001
                    if isinstance(self._program_state, ProgramStopped):  # noqa: SLF001
                        return
                    original(self, *args, **kwargs)

            return guarded

        setattr(Environment, name, make(original))


# ------------------------------------------------------------------------ Map Runs
def _stopped(env: Any) -> bool:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    return isinstance(env._program_state, ProgramStopped)  # noqa: SLF001


def _close_unstarted(job_pool: Any) -> None:
    while True:
        job = job_pool.next_job()
        if job is None:
            return
        job.job_output = None
        job_pool.close_job(job)


def _patch_map_workers() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded

    Worker = DistributedItemProcessorWorker
    original_pool = Worker._eval_pool
    original_job = Worker._eval_job

    def _eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        if job is not None and _stopped(self._env):
            # the Map Run is stopped: this item and the ones after it never start
            job.job_output = None
            self._job_pool.close_job(job)
            _close_unstarted(self._job_pool)
            return
        original_pool(self, job, worker_frame)

    def _eval_job(self: Any, env: Any, job: Any) -> None:
        if _stopped(env):  # stopped between the pool's look and this child's start
            job.job_output = None
            return
        original_job(self, env, job)
        # moto takes a child off `running` only when it succeeded
        if not isinstance(env.program_state(), ProgramEnded):
            self._map_run_record.execution_counter.running.offset(-1)

    Worker._eval_pool = _eval_pool
    Worker._eval_job = _eval_job


def _patch_map_run_record() -> None:
    """An ABORTED Map Run keeps its status and stop date when its Map state ends."""
    from moto.stepfunctions.parser.api import MapRunStatus
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (
        MapRunRecord,
    )

    original = MapRunRecord.set_stop

    def set_stop(self: Any, status: Any) -> None:
        if self.status == MapRunStatus.ABORTED:
            return
        original(self, status)

    MapRunRecord.set_stop = set_stop


def map_run_aborted(env: Any) -> bool:
    """True when the Map Run evaluated in `env` ended because its execution was stopped
    (stepfunctions.py then leaves the failure threshold alone and records MapRunAborted)."""
    return _stopped(env)


def _patch_map_run_events() -> None:
    """moto's DistributedIterationComponent._eval_body, but a Map Run that ends because its
    execution was stopped records ``MapRunAborted`` (not ``MapRunSucceeded``) and stays
    ABORTED."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails, MapRunStartedEventDetails, MapRunStatus
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    def _eval_body(self: Any, env: Any) -> None:
        eval_input = env.stack.pop()
        record = eval_input.map_run_record
        env.event_manager.add_event(
            context=env.event_history_context, event_type=HistoryEventType.MapRunStarted,
            event_details=EventDetails(mapRunStartedEventDetails=MapRunStartedEventDetails(
                mapRunArn=record.map_run_arn)))
        parent_event_manager = env.event_manager
        try:
            if eval_input.item_reader:
                eval_input.item_reader.eval(env=env)
            else:
                env.stack.append(eval_input.input_items)
            env.event_manager = EventManager()
            self._map_run(env=env, eval_input=eval_input)
        except Exception as ex:
            details = MapRunFailedEventDetails()
            if isinstance(ex, FailureEventException):
                pair = ex.extract_error_cause_pair()
                if pair:
                    error, cause = pair
                    if error:
                        details["error"] = error
                    if cause:
                        details["cause"] = cause
            env.event_manager = parent_event_manager
            env.event_manager.add_event(
                context=env.event_history_context, event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(mapRunFailedEventDetails=details))
            record.set_stop(status=MapRunStatus.FAILED)
            raise
        finally:
            env.event_manager = parent_event_manager
        if _stopped(env):
            env.event_manager.add_event(context=env.event_history_context,
                                        event_type=HistoryEventType.MapRunAborted)
            record.set_stop(status=MapRunStatus.ABORTED)
            return
        env.event_manager.add_event(context=env.event_history_context,
                                    event_type=HistoryEventType.MapRunSucceeded)
        record.set_stop(status=MapRunStatus.SUCCEEDED)

    DistributedIterationComponent._eval_body = _eval_body


# ------------------------------------------------------------------------ Lambda Tasks
def _patch_lambda_task() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )

    original = StateTaskServiceLambda._eval_service_task

    def _eval_service_task(self: Any, env: Any, resource_runtime_part: Any,
                           normalised_parameters: dict, state_credentials: Any) -> None:
        arn = _execution_arn(env)
        row: Dict[str, Any] = {"function": str(normalised_parameters.get("FunctionName", ""))}
        # StopExecution stops every frame under these locks: either this Task starts
        # (and is recorded) before the stop reaches its frame, or it sees the stop.
        with env._state_mutex:  # noqa: SLF001
            if not env.is_running():
                raise _StoppedBeforeStart()
            row["started"] = _now()
            with _LOCK:
                _INVOCATIONS.setdefault(arn, []).append(row)
        try:
            original(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        finally:
            with _LOCK:
                row["ended"] = _now()

    StateTaskServiceLambda._eval_service_task = _eval_service_task


class _StoppedBeforeStart(Exception):
    """A Task whose execution was stopped before it started: it does not start. Any
    exception ends the state; the frame is stopped, so the child ends ABORTED."""


# ------------------------------------------------------------------------ endpoint
def invocations_endpoint(request: Any, full_url: str, headers: Any) -> Tuple[int, Dict[str, str], str]:
    query = parse_qs(urlsplit(full_url).query)
    execution = (query.get("execution") or [None])[0]
    return 200, dict(JSON), json.dumps(invocations(execution))


def install() -> None:
    from moto.moto_api._internal import urls
    from moto.moto_api._internal.models import MotoAPIBackend

    _patch_stop_execution()
    _patch_execution_status()
    _patch_environment()
    _patch_map_workers()
    _patch_map_run_record()
    _patch_map_run_events()
    _patch_lambda_task()
    urls.url_paths["{0}/moto-api/iam-access-advisor/invocations$"] = invocations_endpoint
    if not getattr(MotoAPIBackend, "_access_advisor_sfn_stop_reset", False):
        original_reset = MotoAPIBackend.reset

        def reset_all(self: Any) -> None:
            original_reset(self)
            reset()

        MotoAPIBackend.reset = reset_all  # type: ignore[method-assign]
        MotoAPIBackend._access_advisor_sfn_stop_reset = True  # type: ignore[attr-defined]
