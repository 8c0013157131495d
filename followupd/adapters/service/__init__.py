"""The systemd user unit that runs ``followupd run``: rendering it (unit), talking to
the user manager (manager), installing and removing it (install), and inspecting
what is installed (inspection).

Nothing here needs a running systemd: the unit is always written, and when
``systemctl --user`` is missing or cannot reach the user manager (no login session,
containers, SSH without lingering) the returned lines say how to finish by hand.
"""
