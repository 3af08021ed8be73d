"""The web app (``retroml ui``): a FastAPI face on :class:`~retroml.runs.service.RunService` and the built React app."""
