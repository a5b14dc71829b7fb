"""The workflow: the configuration file, and the checks the report and the CLI both run."""
