#!/usr/bin/env python3
"""Validates what the client sends, and what Webflow answers, against our OpenAPI fragment
with an independent validator (openapi-core, not our Rust code).

- Every wire-request snapshot in tests/src/snapshots/ (the requests the client really sent
  to the mock: creates and list pages) must be a valid request of its operation.
- Every example from Webflow's published spec (tests/fixtures/upstream-examples.json) must be
  valid against our fragment: the requests and responses of create-item-live and
  list-collection-items, and under `operations` those of collection-details,
  update-items-live, delete-items-live and delete-items; the few upstream examples that
  upstream's own schema refuses (`invalid_requests`, each with its reason) must be refused.

Usage: python3 tests/validate_wire_requests.py   (needs: pip install openapi-core pyyaml)
"""

import json
import warnings
import pathlib
import sys
import urllib.parse

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "webflow-cms-items.yaml"
SNAPSHOTS = ROOT / "tests" / "src" / "snapshots"
EXAMPLES = ROOT / "tests" / "fixtures" / "upstream-examples.json"
HOST = "https://api.webflow.com"
OPERATION_PATH = "/v2/collections/580e63fc8c9a982ac9b8b745/items/live"


def snapshot_body(path: pathlib.Path):
    # An insta snapshot: a YAML header, then `---`, then the snapshot (YAML here).
    _, _, content = path.read_text().split("---", 2)
    return yaml.safe_load(content)


def main() -> int:
    # openapi-core warns that it cannot check oauth2 security schemes; irrelevant here.
    warnings.filterwarnings("ignore", message="Unsupported scheme type")
    api = OpenAPI.from_file_path(str(SPEC))
    failures = 0
    checked = 0

    wire = sorted(SNAPSHOTS.glob("*__wire__*.snap")) + sorted(SNAPSHOTS.glob("*__listing__wire_*.snap"))
    if not wire:
        print(f"no wire-request snapshots found in {SNAPSHOTS}", file=sys.stderr)
        return 1
    for path in wire:
        request = snapshot_body(path)
        args = dict(urllib.parse.parse_qsl(request.get("query") or ""))
        headers = dict(request["headers"])
        headers["authorization"] = "Bearer redacted-in-snapshot"
        mock = MockRequest(
            HOST,
            request["method"].lower(),
            request["path"],
            args=args,
            headers=headers,
            data=None if request["body"] is None else json.dumps(request["body"]).encode(),
            content_type=headers.get("content-type", "application/json"),
        )
        checked += 1
        try:
            api.validate_request(mock)
            print(f"ok   request  {path.name}")
        except Exception as error:  # noqa: BLE001 - report every failure
            failures += 1
            print(f"FAIL request  {path.name}: {error!r}", file=sys.stderr)
            for cause in getattr(error, "schema_errors", []) or []:
                print(f"     {cause.message}", file=sys.stderr)

    examples = json.loads(EXAMPLES.read_text())
    def example_request(body):
        return MockRequest(HOST, "post", OPERATION_PATH, headers={"authorization": "Bearer x"},
                           data=json.dumps(body).encode(), content_type="application/json")

    for name, body in examples["requests"].items():
        checked += 1
        try:
            api.validate_request(example_request(body))
            print(f"ok   request  upstream example {name}")
        except Exception as error:  # noqa: BLE001
            failures += 1
            print(f"FAIL request  upstream example {name}: {error!r}", file=sys.stderr)
    for status, body in examples["responses"].items():
        response = MockResponse(json.dumps(body).encode(), status_code=int(status), content_type="application/json")
        checked += 1
        try:
            api.validate_response(example_request(examples["requests"]["SingleItem"]), response)
            print(f"ok   response upstream example {status}")
        except Exception as error:  # noqa: BLE001
            failures += 1
            print(f"FAIL response upstream example {status}: {error!r}", file=sys.stderr)
            for cause in getattr(error, "schema_errors", []) or []:
                print(f"     {cause.message}", file=sys.stderr)

    list_request = MockRequest(HOST, "get", "/v2/collections/580e63fc8c9a982ac9b8b745/items",
                               headers={"authorization": "Bearer x"})
    for status, body in examples.get("list_responses", {}).items():
        response = MockResponse(json.dumps(body).encode(), status_code=int(status), content_type="application/json")
        checked += 1
        try:
            api.validate_response(list_request, response)
            print(f"ok   response upstream list example {status}")
        except Exception as error:  # noqa: BLE001
            failures += 1
            print(f"FAIL response upstream list example {status}: {error!r}", file=sys.stderr)

    # The other operations: each request example is a valid request, each response example a
    # valid response (a 204 has no body), each invalid upstream example is refused.
    def operation_request(operation, body):
        return MockRequest(HOST, operation["method"], operation["path"],
                           headers={"authorization": "Bearer x"},
                           data=None if body is None else json.dumps(body).encode(),
                           content_type="application/json")

    for operation_id, operation in examples.get("operations", {}).items():
        requests = operation.get("requests", {})
        for name, body in requests.items():
            checked += 1
            try:
                api.validate_request(operation_request(operation, body))
                print(f"ok   request  upstream example {operation_id} {name}")
            except Exception as error:  # noqa: BLE001
                failures += 1
                print(f"FAIL request  upstream example {operation_id} {name}: {error!r}", file=sys.stderr)
                for cause in getattr(error, "schema_errors", []) or []:
                    print(f"     {cause.message}", file=sys.stderr)
        for name, invalid in operation.get("invalid_requests", {}).items():
            checked += 1
            try:
                api.validate_request(operation_request(operation, invalid["body"]))
                failures += 1
                print(f"FAIL negative  upstream example {operation_id} {name} was accepted "
                      f"although {invalid['why']}", file=sys.stderr)
            except Exception:  # noqa: BLE001 - any validation error is the expected outcome
                print(f"ok   negative  upstream example {operation_id} {name} is refused")
        request = operation_request(operation, next(iter(requests.values()), None))
        for name, body in operation["responses"].items():
            status = int(name.split()[0])
            data = b"" if body is None else json.dumps(body).encode()
            response = MockResponse(data, status_code=status,
                                    content_type=None if body is None else "application/json")
            checked += 1
            try:
                api.validate_response(request, response)
                print(f"ok   response upstream example {operation_id} {name}")
            except Exception as error:  # noqa: BLE001
                failures += 1
                print(f"FAIL response upstream example {operation_id} {name}: {error!r}", file=sys.stderr)
                for cause in getattr(error, "schema_errors", []) or []:
                    print(f"     {cause.message}", file=sys.stderr)

    # The validator must catch a bad request, or the checks above prove nothing.
    for name, body in {
        "item without slug": {"fieldData": {"name": "No slug"}},
        "bulk of 101 items": {"items": [{"fieldData": {"name": f"n{i}", "slug": f"s{i}"}} for i in range(101)]},
    }.items():
        checked += 1
        try:
            api.validate_request(example_request(body))
            failures += 1
            print(f"FAIL negative  {name} was accepted: the validator is not checking", file=sys.stderr)
        except Exception:  # noqa: BLE001 - any validation error is the expected outcome
            print(f"ok   negative  {name} is rejected")

    # The sync operations' bounds, and a field type upstream's closed enum lacks.
    operations = examples.get("operations", {})
    if operations:
        update, unpublish, delete = (operations[o] for o in ("update-items-live", "delete-items-live", "delete-items"))
        for name, operation, body in [
            ("update of 101 items", update,
             {"items": [{"id": f"{i:024x}", "fieldData": {"name": "n"}} for i in range(101)]}),
            ("update of no item", update, {"items": []}),
            ("unpublish without items", unpublish, {}),
            ("delete of 101 items", delete, {"items": [{"id": f"{i:024x}"} for i in range(101)]}),
        ]:
            checked += 1
            try:
                api.validate_request(operation_request(operation, body))
                failures += 1
                print(f"FAIL negative  {name} was accepted: the validator is not checking", file=sys.stderr)
            except Exception:  # noqa: BLE001 - any validation error is the expected outcome
                print(f"ok   negative  {name} is rejected")
        details = operations["collection-details"]
        collection = json.loads(json.dumps(details["responses"]["200"]))
        collection["fields"].append({"id": "5e2a1b3c4d5e6f7890a1b2ff", "isEditable": True, "isRequired": False,
                                     "type": "Price", "slug": "price", "displayName": "Price",
                                     "helpText": None, "validations": {"currency": "USD"}})
        checked += 1
        try:
            api.validate_response(operation_request(details, None),
                                  MockResponse(json.dumps(collection).encode(), status_code=200,
                                               content_type="application/json"))
            print("ok   response a field of type Price (not in upstream's enum) is accepted")
        except Exception as error:  # noqa: BLE001
            failures += 1
            print(f"FAIL response a field of type Price was refused: {error!r}", file=sys.stderr)

    print(f"{checked - failures} of {checked} checks passed against {SPEC.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
