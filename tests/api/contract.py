"""Schemathesis over every operation of the OpenAPI document, once per caller.

Runs synchronously (schemathesis and hypothesis are), against a server listening on a real port.
Generation is derandomized and small, so a run is the same run each time and takes under a
minute; every failure is collected, not only the first, so one run shows all that is wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup

Operation = APIOperation[Any, Any, Any, Any]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Per operation and caller: valid requests, then requests the document says are invalid.
EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 1}
# Bodies no schema describes, as the CLI's coverage phase sends them: not UTF-8, not finished.
UNREADABLE_BODIES = (b"\xff\xfe\x00T", b'{"reason": ')


@dataclass(frozen=True)
class Known:
    """Ids that exist, for path parameters: most generated ids would only ever find a 404."""

    certificate_ids: tuple[str, ...]
    task_ids: tuple[str, ...]
    request_ids: tuple[str, ...]
    # An issued certificate's number and verification code.
    verification: tuple[str, str]
    # Workflows and causes of stuck workflows, for the administrators' remedies.
    workflow_ids: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()

    def fixed(self, operation: Operation) -> list[dict[str, dict[str, str]]]:
        """The fixed parts of requests to `operation` that name a known resource."""
        names = {parameter.name for parameter in operation.path_parameters}
        if "certificate_id" in names:
            return [{"path": {"certificate_id": i}} for i in self.certificate_ids]
        if "task_id" in names:
            return [{"path": {"task_id": i}} for i in self.task_ids]
        if "request_id" in names:
            return [{"path": {"request_id": i}} for i in self.request_ids]
        if "workflow_id" in names:
            return [{"path": {"workflow_id": i}} for i in self.workflow_ids]
        if "cause" in names:
            remedy = {"remedy": "terminate"} if "remedy" in names else {}
            return [{"path": {"cause": cause, **remedy}} for cause in self.causes]
        if "number" in names:
            number, code = self.verification
            return [{"path": {"number": number}, "query": {"code": code}}]
        return []


@dataclass
class Report:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # One message per (operation, caller, kind of request, what failed): a run finds a fault
    # many times.
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.cases} cases; statuses {dict(sorted(self.statuses.items()))}"]
        lines += [f"--- {key}\n{message}" for key, message in self.failures.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str]
    session: requests.Session

    def check(self, case: Case[Any], kind: str, report: Report, **sent: Any) -> None:
        """Send `case` (with `sent` in place of its own body, if given) and check the answer."""
        report.cases += 1
        label = f"{case.operation.label} as {self.name} ({kind})"
        headers = {**self.headers, **sent.pop("headers", {})}
        try:
            response = case.call(session=self.session, headers=headers, **sent)
            report.statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failed:
            for failure in failed.exceptions:
                report.failures.setdefault(f"{label}: {failure.title}", str(failure))
        except requests.RequestException as failed:
            report.failures.setdefault(f"{label}: no answer", str(failed))


def _cases(operation: Operation, mode: GenerationMode, known: Known) -> st.SearchStrategy[Any]:
    variants = [
        operation.as_strategy(mode, path_parameters=fixed["path"], query=fixed.get("query"))
        for fixed in known.fixed(operation)
    ]
    return st.one_of(operation.as_strategy(mode), *variants)


def _generated(
    operation: Operation, mode: GenerationMode, caller: Caller, known: Known, report: Report
) -> None:
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation, mode, known))
    def send(case: Case[Any]) -> None:
        caller.check(case, mode.value, report)

    try:
        send()
    except Unsatisfiable:
        # Nothing in the operation can be made invalid (no parameter, no body): no negative case.
        assert mode is GenerationMode.NEGATIVE, operation.label


def _unreadable(operation: Operation, caller: Caller, known: Known, report: Report) -> None:
    path = next(iter(known.fixed(operation)), {"path": {}})["path"]
    for body in operation.body:
        case = operation.Case(path_parameters=path, media_type=body.media_type)
        for raw in UNREADABLE_BODIES:
            content_type = {"Content-Type": body.media_type}
            caller.check(case, "unreadable body", report, data=raw, headers=content_type)


def run_contract(base_url: str, callers: dict[str, dict[str, str]], known: Known) -> Report:
    """Every operation of the document at `base_url`, as each caller (name: its headers)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # An operation the document does not describe validly is an Err, without ok(): the run fails.
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    report = Report()
    with requests.Session() as session:
        for operation in operations:
            for name, headers in callers.items():
                caller = Caller(name, headers, session)
                for mode in EXAMPLES:
                    _generated(operation, mode, caller, known, report)
                _unreadable(operation, caller, known, report)
    return report
