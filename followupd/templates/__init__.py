"""Built-in follow-up templates, one `NAME.j2` file each (format: followupd.core.templates).

A file of the same name in the user's template directory replaces a built-in;
followupd.adapters.templates reads both.
"""
