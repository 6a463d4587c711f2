"""What reading the signing key from Secrets Manager costs a token check.

Brings up a throwaway instance (the test instance's ports, so STORE_TEST_* apply)
for its emulator's Secrets Manager, then prints, in milliseconds, the median and
p99 of decoding one token in this process:

- with a fixed key from the settings (how the key came before: the environment);
- with the key ring from Secrets Manager through Powertools' cache (as deployed);
- with a fetch on every call (force_fetch: what an uncached read would cost).

The cached figure should match the fixed one (ratio ~1): no round trip per request.

Run:  .venv/bin/python loadtest/bench_jwt_keys.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import uuid

from benchkit import report, throwaway_stack, timed_ms
from store.config import Settings
from store.security import decode_token, issue_token
from store.signing_keys import key_source
from storectl.emulator import _LOCAL_CREDENTIALS, REGION


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="token checks per variant")
    args = parser.parse_args()
    n = args.requests

    with throwaway_stack() as (instance, result):
        # Powertools' boto3 client reads the standard AWS settings, as in a function.
        os.environ.update({"AWS_ENDPOINT_URL": instance.endpoint_url, "AWS_DEFAULT_REGION": REGION})
        os.environ.update(_LOCAL_CREDENTIALS)
        arn = result.outputs["JwtSecretArn"]
        deployed = Settings(jwt_secret_arn=arn)
        fixed = Settings(jwt_secret=key_source(deployed).ring().current.key)
        user = uuid.uuid4()
        samples: dict[str, list[float]] = {}
        for name, settings in (("fixed key (environment)", fixed), ("Secrets Manager, cached", deployed)):
            token = issue_token(settings, user, "user").access_token
            decode_token(settings, token)  # warm: the first fetch is not counted
            samples[name] = [timed_ms(lambda: decode_token(settings, token)) for _ in range(n)]  # noqa: B023
        source = key_source(deployed)
        samples["Secrets Manager, fetch every call"] = [
            timed_ms(lambda: source.ring(force=True)) for _ in range(max(50, n // 20))
        ]

    print(f"\ntoken check in process, ms{'':14} {'median':>8} {'p99':>8}")
    for name, values in samples.items():
        report(name, values)
    base = statistics.median(samples["fixed key (environment)"])
    for name, values in samples.items():
        print(f"{name:40} {statistics.median(values) / base:8.2f} x the fixed key")


if __name__ == "__main__":
    main()
