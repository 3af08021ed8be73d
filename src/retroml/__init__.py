"""RetroML: train reinforcement-learning agents on Atari games and film their learning journey."""

__version__ = "0.1.0"
