#!/usr/bin/env python3
"""Writes a large OpenAPI 3.0 document for the import and coverage benchmarks.

    bench/gen_openapi.py OPERATIONS OUT.json [FLOWS_DIR FLOWS]

OPERATIONS operations over OPERATIONS/5 resources (list, create, read, update, delete each), with
shared component schemas (`$ref`, `allOf`, arrays of objects, enums, formats), path-level
parameters, query parameters, bearer auth and documented error responses. With FLOWS_DIR, also
writes FLOWS flow files calling the API (three requests each, templated URLs with `${BASE_URL}` and
ids, status assertions), for `testmesh coverage`.
"""
import json
import os
import sys


def spec(operations):
    resources = max(1, operations // 5)
    schemas = {
        "Error": {"type": "object", "required": ["code", "message"],
                  "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}},
        "Audit": {"type": "object", "properties": {
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string", "format": "email"}}},
        "Tag": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 32},
            "color": {"type": "string", "enum": ["red", "green", "blue"]}}},
    }
    paths = {}
    count = 0
    for r in range(resources):
        name = f"Thing{r}"
        coll = f"/things{r}"
        schemas[name] = {"allOf": [
            {"$ref": "#/components/schemas/Audit"},
            {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "integer", "format": "int64", "readOnly": True, "example": 7},
                "name": {"type": "string", "example": f"thing {r}"},
                "status": {"type": "string", "enum": ["active", "archived"]},
                "score": {"type": "number", "minimum": 0, "maximum": 100},
                "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                "owner": {"type": "object", "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "email": {"type": "string", "format": "email"}}},
            }}]}
        ref = {"$ref": f"#/components/schemas/{name}"}
        errors = {"400": {"$ref": "#/components/responses/BadRequest"},
                  "404": {"$ref": "#/components/responses/NotFound"}}
        ops_coll = {
            "get": {"operationId": f"list{name}", "summary": f"List thing {r}", "tags": [f"group{r % 20}"],
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}, "example": 10},
                                   {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "archived"]}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": ref}}}},
                                  "400": errors["400"]}},
            "post": {"operationId": f"create{name}", "summary": f"Create thing {r}", "tags": [f"group{r % 20}"],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                     "responses": {"201": {"description": "created", "content": {"application/json": {"schema": ref}}},
                                   "400": errors["400"]}},
        }
        ops_item = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {"operationId": f"get{name}", "summary": f"Get thing {r}", "tags": [f"group{r % 20}"],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}, **errors}},
            "put": {"operationId": f"update{name}", "summary": f"Update thing {r}", "tags": [f"group{r % 20}"],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}, **errors}},
            "delete": {"operationId": f"delete{name}", "summary": f"Delete thing {r}", "tags": [f"group{r % 20}"],
                       "responses": {"204": {"description": "deleted"}, "404": errors["404"]}},
        }
        paths[coll] = ops_coll
        paths[coll + "/{id}"] = ops_item
        count += 5
        if count >= operations:
            break
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bench API", "version": "1.0.0"},
        "servers": [{"url": "http://localhost:8080/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "BadRequest": {"description": "bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "NotFound": {"description": "not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def flows(directory, n, resources):
    os.makedirs(directory, exist_ok=True)
    for i in range(n):
        r = i % resources
        text = f"""name: Flow {i}
env:
  BASE_URL: http://localhost:8080/v1
steps:
  - id: create
    action: http_request
    config:
      method: POST
      url: ${{BASE_URL}}/things{r}
      body: {{name: "thing {i}"}}
    assert:
      - status == 201
    output:
      thing_id: $.id
  - id: read
    action: http_request
    config:
      method: GET
      url: ${{BASE_URL}}/things{r}/${{thing_id}}
    assert:
      - status in [200, 404]
  - id: list
    action: http_request
    config:
      method: GET
      url: http://localhost:8080/v1/things{r}?limit=10
    assert:
      - status == 200
"""
        with open(os.path.join(directory, f"flow-{i:05}.yaml"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    ops = int(sys.argv[1])
    document = spec(ops)
    with open(sys.argv[2], "w") as f:
        json.dump(document, f, indent=1)
    if len(sys.argv) > 4:
        flows(sys.argv[3], int(sys.argv[4]), max(1, ops // 5))
