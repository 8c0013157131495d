"""Google: the login, the HTTP transport, and the Calendar and Gmail adapters.

One module per subject; nothing is re-exported here, import from the module itself.
The dependencies run one way, from the adapters down to the login's parts:

* ``calendar`` (with ``calendar_events``, its Calendar v3 JSON parser) and ``gmail``
  -> ``transport`` -> ``api_errors``, ``no_resend``; ``api_errors`` ->
  ``auth_problems``;
* ``login`` -> ``login_flow``, ``revoke``, ``credentials`` -> ``account``,
  ``client_secrets``, ``endpoints``, ``scopes``, ``auth_problems``.

Imports of Google's libraries are lazy where a module is loaded by CLI commands that
never talk to Google.
"""
