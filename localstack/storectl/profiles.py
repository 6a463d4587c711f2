"""The functions' profiles (.prof, pstats format; store.profiling) in the stack's profiles bucket:
list them and download them (open one with `snakeviz FILE`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storectl import deploy
from storectl.emulator import aws_client
from storectl.errors import StoreCtlError
from storectl.instance import Instance


@dataclass(frozen=True)
class Profile:
    key: str
    size: int
    modified: datetime

    @property
    def function(self) -> str:
        return self.key.split("/", 1)[0]


def bucket(instance: Instance) -> str:
    name = deploy.stack_outputs(instance).get("ProfilesBucketName")
    if not name:
        raise StoreCtlError("the deployed stack has no profiles bucket", "redeploy: `storectl deploy`")
    return name


def listing(instance: Instance, function: str | None = None) -> list[Profile]:
    """The stored profiles, oldest first; of one function (its service name) if given."""
    client = aws_client(instance, "s3")
    found: list[Profile] = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket(instance), Prefix=f"{function}/" if function else ""
    ):
        found += [Profile(item["Key"], item["Size"], item["LastModified"]) for item in page.get("Contents", [])]
    return sorted(found, key=lambda profile: (profile.modified, profile.key))


def download(instance: Instance, profiles: list[Profile], target: Path) -> list[Path]:
    """Each profile into `target`/<function>/ (what is there already is not fetched again)."""
    client = aws_client(instance, "s3")
    name = bucket(instance)
    paths = []
    for profile in profiles:
        path = target / profile.key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(name, profile.key, str(path))
        paths.append(path)
    return paths
