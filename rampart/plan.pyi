# Type stub for the old name of rampart.offline.plan (rampart/_moved.py says why; delete with it).
from rampart.offline.plan import *  # noqa: F403
