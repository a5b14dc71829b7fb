"""Province-scale runs: partitioned datasets, per-zone tasks, the process executor."""
