"""The performance harness: synthetic clinic networks in PostgreSQL and the measurements that
docs/performance.md records. Run it with ``make bench`` or ``python -m bench``."""
