"""Log group and stream names with placeholders filled from resource attributes.

As otelcol-contrib's awsemfexporter: `{ClusterName}`, `{TaskId}`, `{NodeName}`,
`{ContainerInstanceId}`, `{TaskDefinitionFamily}` and `{ServiceName}` are looked up first
under that name, then under the resource attribute they stand for; in addition any resource
attribute can be named directly (`{service.namespace}`). A placeholder that resolves to
nothing becomes `undefined`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from routewatch.exporters.emf.encode import attribute_text

PLACEHOLDER_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "ClusterName": ("aws.ecs.cluster.name", "k8s.cluster.name"),
    "TaskId": ("aws.ecs.task.id",),
    "NodeName": ("k8s.node.name",),
    "ContainerInstanceId": ("aws.ecs.container.instance.id",),
    "TaskDefinitionFamily": ("aws.ecs.task.family",),
    "ServiceName": ("service.name",),
    "InstanceId": ("host.id",),
}
UNDEFINED = "undefined"
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def has_placeholders(template: str) -> bool:
    return _PLACEHOLDER.search(template) is not None


def fill_placeholders(template: str, resource: Mapping[str, Any]) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        for key in (name, *PLACEHOLDER_ATTRIBUTES.get(name, ())):
            value = resource.get(key)
            if value not in (None, ""):
                return attribute_text(value)
        return UNDEFINED

    return _PLACEHOLDER.sub(lookup, template)


class Destinations:
    """(log group, log stream) of a resource; cached, since resources repeat."""

    def __init__(self, log_group_name: str, log_stream_name: str) -> None:
        self._group = log_group_name
        self._stream = log_stream_name
        self._static = not (has_placeholders(log_group_name) or has_placeholders(log_stream_name))
        self._cache: dict[Any, tuple[str, str]] = {}

    def __call__(self, resource: Mapping[str, Any]) -> tuple[str, str]:
        if self._static:
            return self._group, self._stream
        try:
            key: Any = tuple(sorted(resource.items()))
            found = self._cache.get(key)
        except TypeError:
            key, found = None, None
        if found is None:
            found = (
                fill_placeholders(self._group, resource),
                fill_placeholders(self._stream, resource),
            )
            if key is not None:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[key] = found
        return found
