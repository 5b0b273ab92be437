"""Loaded by Python at start-up when bench/isolate is on PYTHONPATH (see bench/common.py).

The project is installed in editable mode, whose import hook would fill in any module missing
from a snapshot being measured with the working tree's copy. Dropping the hook makes a
snapshot import only its own files.
"""

import sys

sys.meta_path[:] = [f for f in sys.meta_path if "_EditableFinder" not in repr(f)]
