"""What the tests and the benchmarks (``bench/``) share, written once:

* ``users`` - the people in the rooms: ``ChatClient`` (matrix-nio, E2EE, cross-signed; a test's
  member or a benchmark's listener) and ``RawClient`` (httpx, no nio), the ``Seen`` events and the
  ``Timeline`` they record, round trips and waiting;
* ``processes`` - the bot as ``python -m bot run`` (config, a log per start, stop, SIGKILL), helper
  clients in child processes of their own, CPU time;
* ``runs`` - the frame of a benchmark's run (log, Synapse, the bot as benchmarks run it, SIGTERM);
* ``stats`` - statistics of samples; ``report`` - numbers, tables, the result file, the exit code.

It lives under ``tests/`` because the tests are its main user; the benchmarks run from the
repository root (``python -m bench.…``), where ``tests`` is a package like ``bench``.
"""
