"""dl-roadmap: a deep-learning roadmap as runnable, tracked, tunable Kedro pipelines."""

__version__ = "0.1.0"
