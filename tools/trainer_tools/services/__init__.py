"""Real servers started on loopback for tests, dry runs and benchmarks.

- `seaweed.SeaweedServer`: an S3 server (SeaweedFS `weed mini`) on free loopback ports.
"""

from __future__ import annotations

from trainer_tools.services.seaweed import SeaweedServer, SeaweedStartError, find_weed_binary

__all__ = ["SeaweedServer", "SeaweedStartError", "find_weed_binary"]
