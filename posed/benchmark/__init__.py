"""`posed bench`: measure raw inference, the per-frame pipeline, latency, memory and startup.

Nothing runs at import; `posed.benchmark.runner.run_bench` does the work.
"""
