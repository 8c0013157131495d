"""Google: the Calendar adapter and its Calendar v3 JSON parser (more to come here)."""
