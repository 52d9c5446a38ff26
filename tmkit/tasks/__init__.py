"""Invoke collections, one module each. Task bodies are thin: parse flags, call the package, print.

Nothing heavy (aws_cdk, boto3, moto) is imported at module level so ``inv --list`` stays instant.
"""

import atexit
import gc
import sys

# invoke turns bytecode writing off (unless `inv --write-pyc`), so every `inv` compiled the toolkit's modules anew
# (about 0.1 s of each task's start-up): the interpreter's own setting applies instead (-B and
# PYTHONDONTWRITEBYTECODE still turn it off). docs/decisions.md, "Bytecode is written under inv".
sys.dont_write_bytecode = sys.flags.dont_write_bytecode

# At exit the interpreter runs full garbage collections over every object still alive (botocore's service
# models, pydantic's schemas: about 0.25 s on the 2-core machine). Registered first, gc.freeze runs after every
# other exit handler (weakref finalizers, temporary directories) and moves what is left out of those passes:
# the process ends 0.03 s after its work. docs/decisions.md, "A quick exit".
atexit.register(gc.freeze)
