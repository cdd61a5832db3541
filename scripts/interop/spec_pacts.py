#!/usr/bin/env python3
"""Turns the Pact specification's response and message test cases into pact files and the
provider that answers each case's `actual`, so a verifier checks `expected` against `actual`.

    spec_pacts.py TESTCASES_DIR OUT_DIR

Writes OUT_DIR/http.json (one Synchronous/HTTP interaction per response case, at GET /case/N),
OUT_DIR/messages.json (one Asynchronous/Messages interaction per message case, described by its
file) and OUT_DIR/provider.json (what the provider answers, read by spec_provider.py), plus
OUT_DIR/expected.json: {description: stated verdict}.
"""
import json
import os
import sys

cases_dir, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def cases(kind):
    root = os.path.join(cases_dir, kind)
    for group in sorted(os.listdir(root)):
        for name in sorted(os.listdir(os.path.join(root, group))):
            if name.endswith(".json"):
                with open(os.path.join(root, group, name)) as f:
                    yield f"{kind}/{group}/{name[:-5]}", json.load(f)


def pact(interactions):
    return {
        "consumer": {"name": "pact-spec-consumer"},
        "provider": {"name": "pact-spec-provider"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }


expected, http, messages, provider = {}, [], [], {"http": {}, "messages": {}}
for n, (description, case) in enumerate(cases("response")):
    expected[description] = case["match"]
    response = dict(case["expected"])
    response.setdefault("status", 200)
    http.append({
        "type": "Synchronous/HTTP",
        "description": description,
        "request": {"method": "GET", "path": f"/case/{n}"},
        "response": response,
    })
    provider["http"][f"/case/{n}"] = case["actual"]
for description, case in cases("message"):
    expected[description] = case["match"]
    message = {"type": "Asynchronous/Messages", "description": description}
    message.update(case["expected"])
    messages.append(message)
    provider["messages"][description] = case["actual"]

for name, value in [("http", pact(http)), ("messages", pact(messages)),
                    ("provider", provider), ("expected", expected)]:
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(value, f, indent=1)
print(f"{len(http)} response cases, {len(messages)} message cases")
