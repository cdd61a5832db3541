#!/usr/bin/env python3
"""Compares per-interaction verdicts of the reference verifier (its --json report) and TestMesh
(`contract verify --json`) with the verdicts the Pact specification states.

    compare_verdicts.py EXPECTED_JSON PACT_VERIFIER_JSON TESTMESH_JSON

Prints a line per disagreement and a summary; exits 1 when TestMesh and the reference disagree.
"""
import json
import sys

expected = json.load(open(sys.argv[1]))
reference = {r["description"]: r["result"] == "OK" for r in json.load(open(sys.argv[2]))["interactionResults"]}
ours = {}
for pact in json.load(open(sys.argv[3]))["pacts"]:
    for i in pact["interactions"]:
        ours[i["description"]] = i["outcome"] == "passed"

disagree = 0
off_spec = []
for description in sorted(reference):
    ref, tm = reference[description], ours.get(description)
    if tm is None:
        print(f"MISSING  {description}: not in TestMesh's report")
        disagree += 1
    elif ref != tm:
        print(f"DIFFER   {description}: reference {'pass' if ref else 'fail'}, TestMesh {'pass' if tm else 'fail'}, spec {'match' if expected.get(description) else 'mismatch'}")
        disagree += 1
    if description in expected and ref != expected[description]:
        off_spec.append(description)
same = len(reference) - disagree
print(f"{same}/{len(reference)} verdicts the same as the reference verifier")
for description in off_spec:
    print(f"  note: the reference's verdict differs from the specification's for {description}")
sys.exit(1 if disagree else 0)
