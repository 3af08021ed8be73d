"""The learning-journey video: encoder, HUD, frame sources, live clips and the journey renderer."""
