"""Small fixes to moto 5.2.x that the emulator applies before serving (each one names the gap it closes).

1. UpdateStack with ``UsePreviousValue`` parameters fails with ``KeyError: 'BootstrapVersion'``.
2. A resource created early because another one refers to it (moto creates on first ``Ref``) skips its
   ``DependsOn``: an API Gateway Deployment referenced by its Stage is then made before the Methods it
   depends on, and fails. Here ``DependsOn`` is honoured on that path too.
3. A resource that fails inside stack processing reaches the CLI as a raw (often garbled) error, and
   the stack is left half-made. Here it becomes what CloudFormation does: a ``CREATE_FAILED`` /
   ``UPDATE_FAILED`` event naming the resource with a readable reason, a rollback status
   (``ROLLBACK_COMPLETE`` / ``UPDATE_ROLLBACK_COMPLETE``; a failed create is cleaned up), and a stack
   that a corrected deploy can update or replace. A failed delete leaves ``DELETE_FAILED``.
4. CloudFront origins drop ``OriginAccessControlId``.
5. Bucket policies: moto understands only ``StringEquals`` conditions, so the TLS-only statement
   (``Bool aws:SecureTransport``) would deny every request. The policy is stored as written;
   statements with conditions moto cannot evaluate are not enforced.
6. ``DeletionPolicy``: moto keeps only ``Retain`` resources on a stack delete, and none when an update removes
   them from the template. Here ``Retain`` and ``RetainExceptOnCreate`` keep the resource on both, and only the
   rollback of a failed create deletes ``RetainExceptOnCreate`` ones (what CloudFormation documents).
7. Deleting a stack whose resource was already deleted by hand fails in moto (``ResourceNotFoundException``,
   ``DELETE_FAILED``); CloudFormation counts a resource that is already gone as deleted.
8. Conditional writes (``If-None-Match: *``, ``If-Match``) on PutObject/DeleteObject: moto checks the
   condition and writes in two steps, so two threads of the server can both pass the check. S3 makes the
   check and the write one step (of two creators, one gets 412); here conditional requests are serialized.
   The frontend publish lock (tmkit/publish/lock.py) relies on it.
"""

from __future__ import annotations

import functools
import json
import logging
import threading

log = logging.getLogger("tmkit.emulator")
_APPLIED = False
ENFORCEABLE_CONDITIONS = {"StringEquals"}


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _patch_update_parameters()
    _patch_stack_failures()
    _patch_cloudfront_origin()
    _patch_bucket_policy()
    _patch_deletion_policy()
    _patch_delete_of_missing_resources()  # wraps the deletion policy's _delete_resource
    patch_conditional_writes()
    _APPLIED = True


# 1 ------------------------------------------------------------------------------------------------
def _patch_update_parameters() -> None:
    from moto.cloudformation.models import CloudFormationBackend

    def _resolve_update_parameters(self, instance, incoming_params):
        previous = getattr(instance, "parameters", {}) or {}
        resolved = {}
        for p in incoming_params:
            key = p["ParameterKey"]
            if p.get("UsePreviousValue"):
                if key in previous:
                    resolved[key] = previous[key]
                # else: a parameter the old template did not have -> its Default applies
            elif "ParameterValue" in p:
                resolved[key] = p["ParameterValue"]
        return resolved

    CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters


# 2, 3 --------------------------------------------------------------------------------------------
def failure_reason(exc: BaseException) -> str:
    """One readable line for an exception raised while processing a resource."""
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else "") or ""
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    if not isinstance(message, str) or not message.strip() or message.lstrip().startswith("<"):
        message = repr(exc)
    if isinstance(exc, KeyError):
        message = f"missing value {exc.args[0]!r}"
    name = code if isinstance(code, str) else type(exc).__name__
    return f"{name}: {' '.join(message.split())}"[:1000]


def _annotate(fn, honour_depends_on: bool = False):
    """Create DependsOn targets first; remember which resource raised (the innermost one)."""

    def wrapper(logical_id, resource_json, resources_map, *args, **kwargs):
        try:
            if honour_depends_on:
                depends = resource_json.get("DependsOn") or []
                for dependency in [depends] if isinstance(depends, str) else depends:
                    resources_map[dependency]
            return fn(logical_id, resource_json, resources_map, *args, **kwargs)
        except Exception as exc:
            if not hasattr(exc, "tm_resource"):
                exc.tm_resource = (logical_id, resource_json.get("Type", ""))
            raise

    return wrapper


def _event(stack, logical_id, resource_type, status, reason=None, physical_id=None):
    from moto.cloudformation.models import Event

    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id or "",
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _report(stack, exc, operation: str) -> str:
    logical_id, resource_type = getattr(exc, "tm_resource", (stack.name, "AWS::CloudFormation::Stack"))
    reason = failure_reason(exc)
    log.warning("stack %s: %s of %s (%s) failed: %s", stack.name, operation.lower(), logical_id, resource_type, reason)
    _event(stack, logical_id, resource_type, f"{operation}_FAILED", reason)
    return f"The following resource(s) failed to {operation.lower()}: [{logical_id}]. {reason}"


def _patch_stack_failures() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import CloudFormationBackend, Stack
    from moto.cloudformation.parsing import OutputMap

    parsing.parse_and_create_resource = _annotate(parsing.parse_and_create_resource, honour_depends_on=True)
    parsing.parse_and_update_resource = _annotate(parsing.parse_and_update_resource)

    original_create = Stack.create_resources
    original_update = Stack.update
    original_delete_stack = CloudFormationBackend.delete_stack

    def create_resources(self):
        try:
            original_create(self)
        except Exception as exc:
            summary = _report(self, exc, "CREATE")
            self.status = "ROLLBACK_IN_PROGRESS"
            self._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=summary)
            try:
                self.resource_map.tm_rolling_back_create = True  # RetainExceptOnCreate resources go too
                self.resource_map.delete()  # what was created goes away, as in a rollback
            except Exception as cleanup:  # noqa: BLE001 - report, keep the stack replaceable
                log.warning("stack %s: rollback left resources behind: %s", self.name, failure_reason(cleanup))
            # Nothing is left: no resources, no outputs (moto would re-create them lazily when listed).
            self.resource_map._resource_json_map = {}
            self.output_map = OutputMap(self.resource_map, {}, self.stack_id)
            self.stack_status_reason = summary
            self.status = "ROLLBACK_COMPLETE"
            self._add_stack_event("ROLLBACK_COMPLETE", resource_status_reason=summary)

    def update(self, template, role_arn=None, parameters=None, tags=None):
        old_template = self.template
        old_json_map = dict(self.resource_map._resource_json_map)
        try:
            original_update(self, template, role_arn=role_arn, parameters=parameters, tags=tags)
            self.stack_status_reason = None
        except Exception as exc:
            summary = _report(self, exc, "UPDATE")
            # The old template stays the deployed one, so the next deploy sees (and retries) every change.
            # moto cannot undo the changes that did apply; a rerun updates them again.
            self.template = old_template
            self._parse_template()
            self.resource_map._template = self.template_dict
            self.resource_map._resource_json_map = old_json_map
            self.output_map = self._create_output_map()
            self.stack_status_reason = summary
            self.status = "UPDATE_ROLLBACK_COMPLETE"
            self._add_stack_event("UPDATE_ROLLBACK_COMPLETE", resource_status_reason=summary)

    def delete_stack(self, name_or_stack_id):
        stack = self.stacks.get(name_or_stack_id) or next(
            (s for s in self.stacks.values() if s.name == name_or_stack_id), None
        )
        try:
            original_delete_stack(self, name_or_stack_id)
        except Exception as exc:
            if stack is None:
                raise
            summary = _report(stack, exc, "DELETE")
            self.stacks[stack.stack_id] = stack  # still there: a retry can finish the job
            self.deleted_stacks.pop(stack.stack_id, None)
            stack.stack_status_reason = summary
            stack.status = "DELETE_FAILED"
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=summary)

    Stack.create_resources = create_resources
    Stack.update = update
    CloudFormationBackend.delete_stack = delete_stack


# 4 ------------------------------------------------------------------------------------------------
def _patch_cloudfront_origin() -> None:
    from moto.cloudfront import models

    original_init = models.Origin.__init__

    def __init__(self, origin):
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""

    models.Origin.__init__ = __init__


# 5 ------------------------------------------------------------------------------------------------
def enforceable_policy(policy_text: str) -> str:
    """The statements of a bucket policy that moto can evaluate faithfully."""
    doc = json.loads(policy_text)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    doc["Statement"] = [s for s in statements if set(s.get("Condition") or {}) <= ENFORCEABLE_CONDITIONS]
    return json.dumps(doc)


def _patch_bucket_policy() -> None:
    from moto.s3.models import FakeBucket

    def get_permission(self, action, resource):
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = enforceable_policy(self.policy.decode())
        if not json.loads(policy)["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(policy).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


# 6 ------------------------------------------------------------------------------------------------
RETAINED = {"Retain", "RetainExceptOnCreate"}


def _patch_deletion_policy() -> None:
    from moto.cloudformation.parsing import ResourceMap

    original = ResourceMap._delete_resource

    def _delete_resource(self, parsed_resource, resource_json):
        policy = resource_json.get("DeletionPolicy")
        if policy in RETAINED and not (
            policy == "RetainExceptOnCreate" and getattr(self, "tm_rolling_back_create", False)
        ):
            return  # kept: the stack forgets it, the object stays
        original(self, parsed_resource, resource_json)

    ResourceMap._delete_resource = _delete_resource


# 7 ------------------------------------------------------------------------------------------------
def is_not_found(exc: BaseException) -> bool:
    """The service says the resource does not exist (any service's spelling of it)."""
    text = f"{type(exc).__name__} {getattr(exc, 'code', '')} {exc}".lower()
    return any(m in text for m in ("notfound", "not found", "nosuch", "does not exist"))


def _patch_delete_of_missing_resources() -> None:
    from moto.cloudformation.parsing import ResourceMap

    original = ResourceMap._delete_resource

    def _delete_resource(self, parsed_resource, resource_json):
        try:
            original(self, parsed_resource, resource_json)
        except Exception as exc:
            if not is_not_found(exc):
                raise
            log.info("delete of %r: already gone (%s)", getattr(parsed_resource, "physical_resource_id", "?"), exc)

    ResourceMap._delete_resource = _delete_resource


# 8 ------------------------------------------------------------------------------------------------
_CONDITIONAL = threading.Lock()


def patch_conditional_writes() -> None:
    """Make moto's conditional PutObject/DeleteObject atomic (idempotent)."""
    from moto.s3.responses import S3Response

    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)
        if getattr(original, "_tmkit_atomic", False):
            continue

        def atomic(self, _original=original):
            if self.headers.get("If-None-Match") or self.headers.get("If-Match"):
                with _CONDITIONAL:
                    return _original(self)
            return _original(self)

        functools.update_wrapper(atomic, original)
        atomic._tmkit_atomic = True
        setattr(S3Response, name, atomic)
