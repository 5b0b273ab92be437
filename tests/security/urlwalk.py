"""Every URL pattern of the project, found by walking the URLconf."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself when the pattern has no name
    route: str  # the pattern as written, prefixes joined
    pattern: URLPattern


def _walk(resolver, prefix, namespace):
    for entry in resolver.url_patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + text, inner)
        else:
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = prefix + text
            yield Route(name=name, route=prefix + text, pattern=entry)


def all_routes():
    return list(_walk(get_resolver(), "", ""))


def all_route_names():
    return {route.name for route in all_routes()}
