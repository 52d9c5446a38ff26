"""Invoke collections, one module each. Task bodies are thin: parse flags, call the package, print.

Nothing heavy (aws_cdk, boto3, moto) is imported at module level so ``inv --list`` stays instant.
"""
