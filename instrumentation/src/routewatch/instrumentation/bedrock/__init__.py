"""Amazon Bedrock Runtime (botocore and aiobotocore clients): GenAI spans, metrics and cost."""
