"""TimeManagement deployment toolkit: environments, CDK engine and operational tasks."""
