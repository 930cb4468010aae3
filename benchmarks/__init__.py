"""Performance benchmarks, run by `make bench` (python -m benchmarks [name ...]); see benchmarks/common.py."""
