"""Runs: the one API (``service.RunService``) through which every face creates and controls training."""
