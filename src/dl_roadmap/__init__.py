"""dl-roadmap: a deep-learning roadmap as runnable, tracked, tunable Kedro pipelines."""

from dl_roadmap.quiet import silence_known_noise

__version__ = "0.1.0"

# Kedro's command line imports the package before it runs a command, so the filters are in
# place before the first warning of a run (settings.py comes later).
silence_known_noise()
