"""The auth suites' fixtures live in support.auth_fixtures, shared with the other auth folders."""

from support.auth_fixtures import (  # noqa: F401 (fixtures, registered by import)
    browser,
    client_file,
    fresh_secret_service,
    isolated_dirs,
    sandbox,
    secret_service,
    use_secret_service,
)
