"""The desktop app (PySide6): a Qt window over :class:`retroml.runs.service.RunService`."""
