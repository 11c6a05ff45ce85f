"""aiocamp's code generator: YAML specs in ``specs/`` -> ``src/aiocamp/<product>/``.

``python -m codegen`` regenerates every product, ``--check`` only validates the specs,
``--verify`` fails when the committed output differs from a fresh generation.
"""
