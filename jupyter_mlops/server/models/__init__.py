"""The wire format of every route's request and answer, as pydantic models, one module a family.

`server/schema.py` exports them all to `api/schemas.json`, which `openapi.yaml` refers to and the
TypeScript types are generated from. Handlers import these lazily: building the models costs
the server's start otherwise.
"""
