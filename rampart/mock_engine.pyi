# Type stub for the old name of rampart.offline.mock_engine (rampart/_moved.py says why; delete with it).
from rampart.offline.mock_engine import *  # noqa: F403
