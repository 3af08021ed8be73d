"""Training: ale-py's native vector env behind an SB3 VecEnv, the algorithms, checkpoints, the loop."""
