"""How every face writes a number for a person to read: one formatter per kind of figure.

A bottom-level module (it imports nothing from RetroML) so the run model, the videos' upload pack
and the faces all say a duration the same way without a layer importing upward.
"""

from __future__ import annotations


def duration_text(seconds: float) -> str:
    """A duration as every Python face writes it: ``1 h 02 min``, ``3 min 05 s`` or ``12 s``."""
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
