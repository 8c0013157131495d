"""The daemon: the process (signals, watchdog, sleep detection, the jobs), the timer
table (APScheduler jobs rebuilt from the store) and the policy that maps a failed
cycle to status, backoff and auth state."""
