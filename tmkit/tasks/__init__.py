"""Invoke collections, one module each. Task bodies are thin: parse flags, call the package, print.

Nothing heavy (aws_cdk, boto3, moto) is imported at module level so ``inv --list`` stays instant.
"""

import sys

# invoke turns bytecode writing off (unless `inv --write-pyc`), so every `inv` compiled the toolkit's modules anew
# (about 0.1 s of each task's start-up): the interpreter's own setting applies instead (-B and
# PYTHONDONTWRITEBYTECODE still turn it off). docs/decisions.md, "Bytecode is written under inv".
sys.dont_write_bytecode = sys.flags.dont_write_bytecode
