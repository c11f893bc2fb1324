"""Deploying to AWS: the MWAA package and its parity check, the CloudFormation stacks."""
