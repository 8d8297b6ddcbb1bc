"""`posed run`: the daemon's lifecycle under systemd (notify, watchdog, reload, stop)."""
