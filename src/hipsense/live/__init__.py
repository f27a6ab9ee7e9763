"""Running a session on a stream: live sensors, the demo, and replays, into the app or lines."""
