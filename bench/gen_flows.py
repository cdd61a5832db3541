#!/usr/bin/env python3
"""Writes N realistic flow files (and, with --hurl, the equivalent Hurl files) for the validate benchmark.

Each flow has setup/steps/teardown with HTTP, database, assert, log, for_each and condition steps,
assertions, outputs, retries and references: about 120 lines, like a real API test.
"""
import argparse
import pathlib

FLOW = """name: "Generated flow {i}"
description: "Checkout scenario number {i} for the validation benchmark"
suite: bench-{suite}
tags: [bench, api, suite-{suite}]
env:
  BASE_URL: http://localhost:{port}
  TENANT: tenant-{i}
setup:
  - id: seed
    action: database_query
    config:
      connection: ${{DB_URL}}
      query: "INSERT INTO users (id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING"
      params: ["user-{i}", "${{FAKER.internet.email}}"]
steps:
  - id: login
    name: "POST /login"
    action: http_request
    config:
      method: POST
      url: ${{BASE_URL}}/api/login
      headers:
        Content-Type: application/json
        X-Tenant: ${{TENANT}}
      body:
        email: user-{i}@example.com
        password: secret-{i}
    assert:
      - status == 200
      - body.token exists
    output:
      token: $.token
    retry:
      max_attempts: 3
      delay: 250ms
      backoff: exponential
  - id: create_order
    name: "POST /orders"
    action: http_request
    config:
      method: POST
      url: ${{BASE_URL}}/api/orders
      headers:
        Authorization: Bearer ${{token}}
      body:
        items:
          - sku: SKU-{i}-1
            qty: {qty}
            price: 19.99
          - sku: SKU-{i}-2
            qty: 1
            price: 5.5
        total: 45.48
      timeout: 5s
    assert:
      - status == 201
      - body.items.length == 2
      - body.total > 0
    output:
      order_id: $.id
  - id: each_item
    action: for_each
    config:
      items: ${{create_order.body.items}}
      item_name: line
      steps:
        - id: check_item_{i}
          action: http_request
          config:
            method: GET
            url: ${{BASE_URL}}/api/products/${{line.sku}}
          assert:
            - status == 200
  - id: pay
    name: "POST /payments"
    action: http_request
    when: create_order.status == 201
    config:
      method: POST
      url: ${{BASE_URL}}/api/payments
      body:
        order_id: ${{order_id}}
        amount: 45.48
        request_id: ${{RANDOM_ID}}
    assert:
      - status == 200
      - body.status == 'succeeded'
  - id: verify_db
    action: database_query
    config:
      connection: ${{DB_URL}}
      query: "SELECT COUNT(*) AS cnt FROM orders WHERE external_id = $1"
      params: ["${{create_order.body.id}}"]
    assert:
      - row_count == 1
      - first_row.cnt >= 1
  - id: branch
    action: condition
    config:
      condition: pay.body.status == 'succeeded'
      then:
        - id: ok_log_{i}
          action: log
          config: {{message: "paid ${{order_id}}"}}
      else:
        - id: fail_log_{i}
          action: log
          config: {{message: "payment failed for ${{order_id}}", level: warn}}
  - id: summary
    action: assert
    config:
      data:
        order: ${{create_order.status}}
        pay: ${{pay.status}}
      assertions:
        - order == 201
        - pay == 200
teardown:
  - id: cleanup
    action: database_query
    config:
      connection: ${{DB_URL}}
      query: "DELETE FROM orders WHERE external_id = $1"
      params: ["${{order_id}}"]
"""

HURL = """POST http://localhost:{port}/api/login
Content-Type: application/json
X-Tenant: tenant-{i}
{{
  "email": "user-{i}@example.com",
  "password": "secret-{i}"
}}
HTTP 200
[Captures]
token: jsonpath "$.token"
[Asserts]
jsonpath "$.token" exists

POST http://localhost:{port}/api/orders
Authorization: Bearer {{{{token}}}}
[Options]
retry: 3
retry-interval: 250
{{
  "items": [{{"sku": "SKU-{i}-1", "qty": {qty}, "price": 19.99}}, {{"sku": "SKU-{i}-2", "qty": 1, "price": 5.5}}],
  "total": 45.48
}}
HTTP 201
[Captures]
order_id: jsonpath "$.id"
[Asserts]
jsonpath "$.items" count == 2
jsonpath "$.total" > 0

GET http://localhost:{port}/api/products/SKU-{i}-1
HTTP 200

GET http://localhost:{port}/api/products/SKU-{i}-2
HTTP 200

POST http://localhost:{port}/api/payments
{{
  "order_id": "{{{{order_id}}}}",
  "amount": 45.48,
  "request_id": "{{{{newUuid}}}}"
}}
HTTP 200
[Asserts]
jsonpath "$.status" == "succeeded"

GET http://localhost:{port}/api/orders/{{{{order_id}}}}
HTTP 200
[Asserts]
jsonpath "$.items" count == 2
jsonpath "$.status" == "paid"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--hurl", action="store_true", help="also write equivalent .hurl files")
    args = parser.parse_args()
    flows = args.out / "flows"
    flows.mkdir(parents=True, exist_ok=True)
    hurl = args.out / "hurl"
    if args.hurl:
        hurl.mkdir(parents=True, exist_ok=True)
    for i in range(args.n):
        values = dict(i=i, suite=i % 10, port=8000 + i % 50, qty=1 + i % 5)
        (flows / f"flow_{i:04}.yaml").write_text(FLOW.format(**values))
        if args.hurl:
            (hurl / f"flow_{i:04}.hurl").write_text(HURL.format(**values))


if __name__ == "__main__":
    main()
