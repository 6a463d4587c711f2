"""A second deploy updates the stack in place: same API, still serving."""

from __future__ import annotations

import httpx

from storectl import deploy
from support import TEST_PARAMETERS, LocalStack


def test_redeploy_updates_the_stack_in_place(local_stack: LocalStack, api: httpx.Client) -> None:
    built = local_stack.instance.build_dir / "sam" / "template.yaml"
    outputs = deploy.deploy(local_stack.instance, built, {**TEST_PARAMETERS, "LogLevel": "DEBUG"})
    try:
        assert outputs["ApiId"] == local_stack.outputs["ApiId"]
        stack = local_stack.client("cloudformation").describe_stacks(StackName=local_stack.instance.stack_name)
        assert stack["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
        function = local_stack.client("lambda").get_function_configuration(FunctionName=outputs["CatalogFunctionName"])
        assert function["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        assert api.get("/api/health").status_code == 200
    finally:
        deploy.deploy(local_stack.instance, built, TEST_PARAMETERS)
