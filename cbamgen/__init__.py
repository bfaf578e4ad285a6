"""cbamgen: render declarative attention-block specs into standalone Keras layers."""

__version__ = "0.1.0"
