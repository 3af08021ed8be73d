"""The ``/api`` routers, one per resource: games, presets, runs, events, videos, system."""
