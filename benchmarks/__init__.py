"""mock-semble's benchmark harness (issue 6): ``python -m benchmarks [--smoke] [--out PATH]``.

Real processes and sockets: the CLI-started mock server and, as the reference "physical
limit", a bare Starlette app (:mod:`benchmarks.bare_app`) returning the same JSON body,
served by the same uvicorn with the same settings, measured interleaved in the same run.
Figures are medians of several runs; budgets are ratios or absolute limits judged in the
report, never asserted in tests.
"""
