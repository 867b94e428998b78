"""The fleet: every bot a Supervisor program, launched, stopped and watched from one place."""
