"""`sam local invoke` and `sam local start-api` run for real (SAM CLI, Docker, the Lambda runtime image)."""
