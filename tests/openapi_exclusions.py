"""What basecamp4-openapi/openapi.json has that our Basecamp 4 specs deliberately lack.

Keys are an operation id (the whole operation) or "<operation id> <query|body|response> <name>".
"""

OPENAPI_EXCLUSIONS: dict[str, str] = {}
