"""The reminder daemon: APScheduler jobs (one-line wrappers around `srs.reminders`),
signals, the pid, lock and log files, and the watcher that follows imported logs.

It knows nothing of click; `cli/daemon.py` parses the command line and calls in here.
"""
