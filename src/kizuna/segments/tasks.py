"""Background entry points of segments."""

from typing import Any

from django.tasks import task

from kizuna.segments import services


@task
def recompute_segment(segment_id: int) -> list[dict[str, Any]]:
    """Compute a segment fully after its definition was saved, then the segments that
    refer to it."""
    return [
        {
            "segment": result.segment_id,
            "entered": result.entered,
            "exited": result.exited,
            "members": result.members,
            "error": result.error,
        }
        for result in services.recompute_with_dependents(segment_id)
    ]
