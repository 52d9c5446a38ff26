"""`inv --list` (importing tasks.py) loads no heavy module: they are imported inside the functions that use them.

Heavy: boto3, botocore, aws_cdk, jsii, moto, jwt, cryptography, and pydantic (tmkit.config); see
docs/architecture.md, "Imports". benchmarks/startup.py prints the times.
"""

import subprocess
import sys

from tmkit.paths import ROOT

HEAVY = ("boto3", "botocore", "aws_cdk", "jsii", "moto", "jwt", "cryptography", "pydantic")


def test_listing_the_tasks_imports_no_heavy_module():
    code = f"import sys, tasks; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    assert loaded.stdout.split() == []
