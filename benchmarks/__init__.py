"""critmin's benchmark suite: ``python benchmarks/run.py [--quick]`` (docs/performance.md)."""
