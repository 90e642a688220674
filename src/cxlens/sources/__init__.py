"""Sources: the systems that send events to the tracking API, each with its own write key."""
