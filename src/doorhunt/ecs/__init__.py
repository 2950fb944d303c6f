"""Elastic Common Schema for doorhunt: the pinned field set, document helpers, and validation.

Every event, finding and alert doorhunt writes is an ECS document (DESIGN.md, principle 3);
`assert_valid` is how tests hold the producers to that.
"""

from __future__ import annotations

from doorhunt.ecs.document import (
    entity_id,
    flatten,
    format_epoch,
    format_timestamp,
    get_field,
    host_fields,
    new_event,
    set_field,
)
from doorhunt.ecs.extensions import EXTENSION_FIELDS, ExtensionField
from doorhunt.ecs.schema import ECS_VERSION, FieldSpec, Schema, load_schema
from doorhunt.ecs.validate import EcsValidationError, Problem, assert_valid, validate

__all__ = [
    "ECS_VERSION",
    "EXTENSION_FIELDS",
    "EcsValidationError",
    "ExtensionField",
    "FieldSpec",
    "Problem",
    "Schema",
    "assert_valid",
    "entity_id",
    "flatten",
    "format_epoch",
    "format_timestamp",
    "get_field",
    "host_fields",
    "load_schema",
    "new_event",
    "set_field",
    "validate",
]
